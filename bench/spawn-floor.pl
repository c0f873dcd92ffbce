# The floor for starting processes the way Corral does on this disk: for each of COUNT
# processes, make a directory with the files Corral makes for a run (its run log and run
# index, and the two spool files the child writes its output to), then fork and exec
# `sleep 30` with its output going to those files. Prints the pids, which the caller kills.
#   perl spawn-floor.pl DIR COUNT
use strict;
use warnings;
use POSIX ();

my ($dir, $count) = @ARGV;
my @pids;
for my $i (0 .. $count - 1) {
  my $d = "$dir/p$i";
  mkdir $d or die "mkdir $d: $!\n";
  for my $name ('run.log', 'runs.json') {
    open(my $fh, '>', "$d/$name") or die "$d/$name: $!\n";
    close $fh;
  }
  my $pid = fork() // die "fork: $!\n";
  if ($pid == 0) {
    open(STDIN, '<', '/dev/null');
    open(STDOUT, '>', "$d/run.stdout");
    open(STDERR, '>', "$d/run.stderr");
    exec('sleep', '30') or POSIX::_exit(127);
  }
  push @pids, $pid;
}
print join(' ', @pids), "\n";
