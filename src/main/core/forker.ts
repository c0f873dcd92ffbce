import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import net, { type Socket } from 'node:net'
import os from 'node:os'
import type { LaunchPlan } from './launch'
import { ERRNO_NAMES, findPerl } from './perl'
import type { LaunchedChild, Launcher } from './launcher'
import { RemoteChild, type SpawnerClient } from './spawner-client'
import { childGroupNice, niceAutogroup } from './child-weight'
import { signalGroup } from './process-group'
import type { Spool } from './spool'

/**
 * The forker: a small Perl program that stays running and forks Corral's children for it,
 * on Linux, for runs whose output is spooled to files (the default there).
 *
 * Starting a child through the spawner (`main/spawner.ts`) costs a fork of a 50 MB Node
 * process and a start of Perl (the trampoline that puts the child in a group of its own in a
 * shared session), one request at a time: about 17 ms per child on a 2-core machine, 3.7 s
 * for 200. A fork of this small program costs a fraction of a millisecond, so the same 200
 * start in about 0.3–0.4 s. Each child, before it execs its program:
 * - connects to a Unix socket Corral listens on and says the launch's random token: that
 *   socket is its stdin, so no descriptor has to be handed from process to process. The
 *   socket is in Linux's abstract namespace, with a random name: no file that a cleaner of
 *   /tmp could remove under a Corral that runs for weeks. Any local process could connect to
 *   it, but a connection counts only with the token of a launch under way (128 random bits,
 *   sent to the forker through its stdin, never in a command line);
 * - takes as stdout and stderr two pipes to its relay: a process the forker forks beside it
 *   (outside its group, so that no signal for the child reaches it) that appends what comes
 *   through them to the spool files until every writer has closed them, then exits. The
 *   child never waits for Corral, only for that copy; and a program that opens /dev/stdout or
 *   /dev/stderr (`echo oops > /dev/stderr`) opens the pipe, as under any shell, where with
 *   the spool file itself as its stdout it truncated the file and overwrote its output;
 * - changes to its working directory, takes its exact environment, leads a process group of
 *   its own (in the forker's session, like the spawner's children: see `main/spawner.ts`;
 *   Corral lowers that session's weight as a group, see `child-weight.ts`) and execs the
 *   program. Whether that worked it says on a close-on-exec pipe, as the trampoline does.
 * The forker reports each child's start and later its exit status on its stdout. When its
 * stdin closes (Corral is gone), it exits; the children it started are not affected.
 *
 * Requests: a 4-byte big-endian length, then NUL-separated fields: id, token, working
 * directory, stdout file, stderr file, the count of environment entries, the entries
 * (`KEY=value`), the program and its arguments. Replies, a line each: `ready`;
 * `ok <id> <pid> <relay pid>`; `fail <id> <errno>`; `exit <id> <code> <signal>` (`-` for
 * what does not apply); `relayed <id>` once its relay has put all of its output in the files.
 */
const FORKER = String.raw`
use strict; use warnings;
use Socket qw(AF_UNIX SOCK_STREAM);
use POSIX qw(WNOHANG _exit dup2);
use Config;
use Fcntl qw(F_SETFL O_NONBLOCK O_WRONLY O_CREAT);
$0 = 'corral-forker';
my $path = shift @ARGV;
$| = 1;
pipe(my $wake_r, my $wake_w) or exit 70;
fcntl($_, F_SETFL, O_NONBLOCK) for $wake_r, $wake_w;
$SIG{CHLD} = sub { syswrite($wake_w, 'x') };
# status: a child's start not yet reported, by the fd of its pipe; child: by pid; relay: the
# launch id of each relay, by pid.
my (%status, %child, %relay);
my $in = '';
print "ready\n";
# splice(2) moves a pipe's pages into a file in the kernel, without copying them through
# the relay; its number by architecture (sysread and syswrite where it is not known).
my $arch = (split /-/, $Config{archname})[0];
my $splice = { x86_64 => 275, aarch64 => 76, i386 => 313, i686 => 313, arm => 340,
  armv7l => 340, ppc64le => 283, s390x => 306, riscv64 => 76, loongarch64 => 76 }->{$arch};
# epoll_create1, epoll_ctl and epoll_pwait by architecture, and whether struct epoll_event is
# packed (12 bytes) there or padded (16): epoll says which pipe became readable first (its
# ready list is in the order they did), where select only says which are. Elsewhere, select.
my $epoll = { x86_64 => [291, 233, 281, 'LQ'], aarch64 => [20, 21, 22, 'LxxxxQ'],
  riscv64 => [20, 21, 22, 'LxxxxQ'], loongarch64 => [20, 21, 22, 'LxxxxQ'] }->{$arch};
# The relay of a child's output: reads the pipes the child writes its stdout and stderr to and
# appends what comes to the spool files, until every writer has closed them. A loop of its
# own, in a process of its own (outside the child's group, so the child's signals never reach
# it), so the child waits for nothing but this copy.
sub relay {
  my ($out, $err, $ep, @pipes) = @_;
  $0 = 'corral-relay';
  $SIG{CHLD} = 'DEFAULT';
  # Not Corral's requests and replies: those are the forker's.
  open(STDIN, '<', '/dev/null'); open(STDOUT, '>', '/dev/null');
  close $wake_r; close $wake_w;
  close $_->{fh} for values %status;
  my %to;
  # Not O_APPEND, which splice refuses: the relay is the files' only writer.
  for ([$pipes[0], $out], [$pipes[1], $err]) {
    sysopen(my $fh, $_->[1], O_WRONLY | O_CREAT, 0600) or _exit(71);
    sysseek($fh, 0, 2);
    $to{fileno($_->[0])} = $fh;
  }
  # stdout's pipe, then stderr's.
  my @open = map { fileno($_) } @pipes;
  my $buf;
  # Copies what the pipe holds now (at most 1 MiB) into its file; false at its end.
  my $copy = sub {
    my ($fd, $fh) = @_;
    if ($splice) {
      # SPLICE_F_MOVE | SPLICE_F_NONBLOCK.
      my $moved = syscall($splice, $fd, 0, fileno($to{$fd}), 0, 1 << 20, 3);
      return 1 if $moved > 0;
      return 0 if $moved == 0;
      return 1 if $!{EINTR} || $!{EAGAIN};
      # Not here (ENOSYS, EINVAL), or the file cannot take it: the copy below.
      $splice = 0 if $!{ENOSYS} || $!{EINVAL};
    }
    my $got = sysread($fh, $buf, 1 << 20);
    return 1 if !defined $got && ($!{EINTR} || $!{EAGAIN});
    return 0 if !$got;
    # A file that cannot take it (a full disk) loses it; the child goes on.
    for (my $at = 0; $at < $got;) {
      my $put = syswrite($to{$fd}, $buf, $got - $at, $at);
      if (!defined $put) { next if $!{EINTR}; last }
      $at += $put;
    }
    return 1;
  };
  my %fh = map { (fileno($_) => $_) } @pipes;
  # The pipes that have something to read (or are at their end), in the order they came to.
  my $ready;
  if ($ep >= 0) {
    my $size = length(pack($epoll->[3], 0, 0));
    my $events = "\0" x ($size * 2);
    $ready = sub {
      my $n = syscall($epoll->[2], $ep, $events, 2, -1, 0, 8);
      return () if $n < 0 && $!{EINTR};
      _exit(72) if $n < 0;
      return map { (unpack($epoll->[3], substr($events, $_ * $size, $size)))[1] } 0 .. $n - 1;
    };
  } else {
    $ready = sub {
      my $rin = '';
      vec($rin, $_, 1) = 1 for @open;
      my $n = select(my $rout = $rin, undef, undef, undef);
      return () if $n < 0 && $!{EINTR};
      _exit(72) if $n < 0;
      return grep { vec($rout, $_, 1) } @open;
    };
  }
  while (@open) {
    for my $fd ($ready->()) {
      next if $copy->($fd, $fh{$fd});
      # Its end: every writer has closed it.
      @open = grep { $_ != $fd } @open;
      syscall($epoll->[1], $ep, 2, $fd, pack($epoll->[3], 0, 0)) if $ep >= 0;
    }
  }
  _exit(0);
}
sub launch {
  my ($id, $token, $cwd, $out, $err, $n, @rest) = split /\0/, $_[0], -1;
  my @env = splice(@rest, 0, $n);
  # The child's stdout and stderr are pipes to its relay, not the spool files themselves: a
  # program that opens /dev/stdout or /dev/stderr (echo oops > /dev/stderr) then opens the
  # pipe, as it would under a terminal's shell, rather than truncating the file.
  my (@read, @write);
  for (0, 1) {
    pipe($read[$_], $write[$_]) or return print "fail $id " . (0 + $!) . "\n";
    # A larger pipe (F_SETPIPE_SZ), so that a flood's writes wake the relay less often.
    fcntl($read[$_], 1031, 1 << 20);
  }
  # The relay's epoll, made here (close-on-exec) and watching both pipes before anything can
  # write to them: a quick child writes before its relay runs, and the order in which its
  # pipes became readable is kept only from the moment they are watched.
  my $ep = $epoll ? syscall($epoll->[0], 0x80000) : -1;
  for my $fh (@read) {
    last if $ep < 0;
    # EPOLLIN; the end of the pipe (EPOLLHUP) is reported anyway.
    next if syscall($epoll->[1], $ep, 1, fileno($fh), pack($epoll->[3], 1, fileno($fh))) == 0;
    POSIX::close($ep);
    $ep = -1;
  }
  my $unmade = sub {
    my $e = 0 + $!;
    POSIX::close($ep) if $ep >= 0;
    close $_ for @_, @read, @write;
    print "fail $id $e\n";
  };
  pipe(my $r, my $w) or return $unmade->();
  my $pid = fork();
  return $unmade->($r, $w) if !defined $pid;
  if ($pid == 0) {
    close $_ for @read;
    $SIG{CHLD} = 'DEFAULT';
    my $fail = sub { syswrite($w, 0 + $!); _exit(127) };
    # The abstract address as Node's libuv binds it: padded with NULs to the whole of
    # sun_path, or (newer libuv) exactly as long as the name.
    my $s;
    for my $name (pack('a108', "\0$path"), "\0$path") {
      socket($s, AF_UNIX, SOCK_STREAM, 0) or $fail->();
      last if connect($s, pack('S', AF_UNIX) . $name);
      close $s;
      undef $s;
    }
    $s or $fail->();
    defined(syswrite($s, "$token\n")) or $fail->();
    defined(dup2(fileno($s), 0))
      && defined(dup2(fileno($write[0]), 1))
      && defined(dup2(fileno($write[1]), 2))
      or $fail->();
    chdir($cwd) or $fail->();
    %ENV = ();
    for (@env) { my ($k, $v) = split /=/, $_, 2; $ENV{$k} = $v }
    setpgrp(0, 0) or $fail->();
    { exec { $rest[0] } @rest; }
    $fail->();
  }
  close $w;
  close $_ for @write;
  # The relay after the child, so that the child starts first; it holds no write end of the
  # pipes (or it would never see their end) and none of the child's status pipe.
  my $rpid = fork();
  if (!defined $rpid) {
    # Nothing would read the child's output: it must not run.
    my $e = 0 + $!;
    kill 'KILL', $pid;
    POSIX::close($ep) if $ep >= 0;
    close $_ for @read;
    close $r;
    $child{$pid} = { id => $id, fd => -1, failed => 1 };
    return print "fail $id $e\n";
  }
  if ($rpid == 0) { relay($out, $err, $ep, @read) }
  POSIX::close($ep) if $ep >= 0;
  close $_ for @read;
  $relay{$rpid} = $id;
  $status{fileno($r)} = { fh => $r, id => $id, pid => $pid, relay => $rpid };
  $child{$pid} = { id => $id, fd => fileno($r), failed => 0 };
}
# What a child said of its start, read to the end (its program runs, or it is about to
# exit), reported; returns whether the program runs.
sub settle {
  my $st = delete $status{$_[0]};
  my $said = '';
  while (1) {
    my $got = sysread($st->{fh}, $said, 64, length $said);
    if (!defined $got) { next if $!{EINTR}; last }
    last if !$got;
  }
  close $st->{fh};
  if ($said eq '') { print "ok $st->{id} $st->{pid} $st->{relay}\n"; return 1 }
  print "fail $st->{id} $said\n";
  $child{$st->{pid}}{failed} = 1 if $child{$st->{pid}};
  return 0;
}
sub reap {
  while ((my $pid = waitpid(-1, WNOHANG)) > 0) {
    if (defined(my $rid = delete $relay{$pid})) { print "relayed $rid\n"; next }
    my $c = delete $child{$pid} or next;
    my $st = $status{$c->{fd}};
    next if $st && $st->{pid} == $pid && !settle($c->{fd});
    next if $c->{failed};
    my $code = $? & 127 ? '-' : $? >> 8;
    my $signal = $? & 127 ? $? & 127 : '-';
    print "exit $c->{id} $code $signal\n";
  }
}
while (1) {
  my $rin = '';
  vec($rin, 0, 1) = 1;
  vec($rin, fileno($wake_r), 1) = 1;
  vec($rin, $_, 1) = 1 for keys %status;
  my $n = select(my $rout = $rin, undef, undef, undef);
  if ($n > 0) {
    if (vec($rout, 0, 1)) {
      my $got = sysread(STDIN, $in, 65536, length $in);
      # The end of the requests: Corral is gone.
      exit 0 if defined $got ? $got == 0 : !$!{EINTR};
      while (length($in) >= 4) {
        my $len = unpack('N', $in);
        last if length($in) < 4 + $len;
        launch(substr($in, 4, $len));
        substr($in, 0, 4 + $len, '');
      }
    }
    for my $fd (keys %status) { settle($fd) if vec($rout, $fd, 1) }
    sysread($wake_r, my $drop, 4096) if vec($rout, fileno($wake_r), 1);
  }
  reap();
}
`

/** Signal names by number. */
const SIGNAL_NAMES = new Map(
  Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
)
/** How long a launch waits for its child's input after the child has exited. */
const STDIN_GRACE_MS = 2000

/** A launch the forker has not answered in full yet. */
interface Pending {
  plan: LaunchPlan
  spool: Spool
  token: string
  resolve: (child: LaunchedChild) => void
  reject: (err: Error) => void
  /** Its pid, once it runs. */
  pid: number
  stdin: Socket | null
  /** Its exit, if the forker reported it before its stdin connected. */
  exit: [number | null, NodeJS.Signals | null] | null
}

/**
 * Launching through the forker (see {@link FORKER}) where it can run: Linux, Perl, children
 * in a shared session (not `CORRAL_SHARED_SESSION=0`), output spooled to files, and not
 * `CORRAL_FORKER=0`. Everything else, and everything once the forker cannot start, goes to
 * the spawner.
 */
export class ForkerClient implements Launcher {
  readonly blocksLoop = false
  private readonly perl: string | null
  private proc: ChildProcess | null = null
  private server: net.Server | null = null
  /** The socket's name in the abstract namespace (without its leading NUL). */
  private socketName = ''
  private ready = false
  private fallback = false
  private closed = false
  private nextId = 1
  private replies = ''
  private readonly pending = new Map<number, Pending>()
  private readonly byToken = new Map<string, number>()
  private readonly live = new Map<number, RemoteChild>()
  /** The spool of each launch whose relay is still copying its output, by launch id. */
  private readonly relaying = new Map<number, Spool>()
  /** Launches whose relay was done before their start was reported. */
  private readonly relayedEarly = new Set<number>()

  constructor(private readonly spawner: SpawnerClient) {
    this.perl =
      process.platform === 'linux' &&
      process.env.CORRAL_SHARED_SESSION !== '0' &&
      process.env.CORRAL_FORKER !== '0'
        ? findPerl()
        : null
    if (!this.perl) this.fallback = true
  }

  /** Whether launches of spooled runs go through the forker. */
  get active(): boolean {
    return !this.fallback && !this.closed
  }

  /**
   * While the forker runs. (Should it fail between a run's spool being made and its launch,
   * that one launch goes to the spawner with the files as its stdout and stderr.)
   */
  get relaysSpool(): boolean {
    return this.active
  }

  /** Start the forker (and the spawner, for the rest) now rather than on first use. */
  warmUp(): void {
    if (this.active) this.ensure()
    this.spawner.warmUp()
  }

  launch(plan: LaunchPlan, spool?: Spool | null): Promise<LaunchedChild> {
    if (!spool || !this.active) return this.spawner.launch(plan, spool)
    const env = Object.entries(plan.env)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`)
    const fields = [plan.cwd, spool.stdout.file, spool.stderr.file, ...env, plan.file, ...plan.args]
    if (fields.some((f) => f.includes('\0'))) {
      // As spawn says it.
      const err = Object.assign(
        new TypeError('The arguments, environment and directory must not contain null bytes'),
        { code: 'ERR_INVALID_ARG_VALUE' },
      )
      return Promise.reject(err)
    }
    const proc = this.ensure()
    if (!proc) return this.spawner.launch(plan, spool)
    const id = this.nextId++
    const token = randomBytes(16).toString('hex')
    const record = Buffer.from(
      [String(id), token, ...fields.slice(0, 3), String(env.length), ...fields.slice(3)].join('\0'),
    )
    const head = Buffer.alloc(4)
    head.writeUInt32BE(record.length)
    return new Promise<LaunchedChild>((resolve, reject) => {
      this.pending.set(id, { plan, spool, token, resolve, reject, pid: 0, stdin: null, exit: null })
      this.byToken.set(token, id)
      this.updateRef()
      proc.stdin!.write(Buffer.concat([head, record]))
    })
  }

  /** Let the forker go once nothing is left to hear about (Corral is shutting down). */
  close(): void {
    this.closed = true
    this.spawner.close()
    if (this.pending.size === 0 && this.live.size === 0) this.letGo()
  }

  /** The forker, started if need be; null when it cannot be. */
  private ensure(): ChildProcess | null {
    if (this.proc) return this.proc
    try {
      this.listen()
    } catch (err) {
      console.error(`corral: the forker cannot listen: ${(err as Error).message}`)
      this.fallback = true
      return null
    }
    const proc = spawn(this.perl!, ['-e', FORKER, '--', this.socketName], {
      // Its own session, as the spawner's (see SpawnerClient); Perl itself runs with no
      // environment, so no PERL5OPT or locale of the user's reaches it.
      detached: true,
      env: {},
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    this.proc = proc
    this.ready = false
    this.replies = ''
    // The children share the forker's session: their weight as a group (see child-weight.ts).
    if (proc.pid !== undefined) void niceAutogroup(proc.pid, childGroupNice())
    proc.stdout!.setEncoding('utf8')
    proc.stdout!.on('data', (text: string) => this.receive(text))
    proc.stdin!.on('error', () => {})
    proc.on('error', (err) => console.error('corral: the forker failed:', err.message))
    proc.once('exit', (code, signal) => this.lost(proc, code, signal))
    this.updateRef()
    return proc
  }

  private listen(): void {
    if (this.server) return
    const name = `corral-${process.pid}-${randomBytes(8).toString('hex')}`
    const server = net.createServer((socket) => this.connected(socket))
    server.on('error', (err) => console.error('corral: the forker socket failed:', err.message))
    server.listen(`\0${name}`)
    server.unref()
    this.server = server
    this.socketName = name
  }

  /** A child connected: its first line is its launch's token. */
  private connected(socket: Socket): void {
    let said = ''
    socket.on('error', () => {})
    const onData = (buf: Buffer): void => {
      said += buf.toString('latin1')
      const end = said.indexOf('\n')
      if (end < 0) {
        if (said.length > 64) socket.destroy()
        return
      }
      // Anything after the token is the child writing into its own input: dropped, as with
      // the spawner's sockets (see RemoteChild).
      socket.off('data', onData)
      const id = this.byToken.get(said.slice(0, end))
      const p = id === undefined ? undefined : this.pending.get(id)
      if (id === undefined || !p) {
        socket.destroy()
        return
      }
      this.byToken.delete(p.token)
      p.stdin = socket
      this.maybeResolve(id, p)
    }
    socket.on('data', onData)
  }

  private receive(text: string): void {
    this.replies += text
    let end: number
    while ((end = this.replies.indexOf('\n')) >= 0) {
      const [kind, idText, a, b] = this.replies.slice(0, end).split(' ')
      this.replies = this.replies.slice(end + 1)
      const id = Number(idText)
      if (kind === 'ready') this.ready = true
      else if (kind === 'ok') {
        const p = this.pending.get(id)
        if (!p) continue
        p.pid = Number(a)
        this.relayBy(id, p.spool, Number(b))
        this.maybeResolve(id, p)
      } else if (kind === 'fail') {
        const p = this.pending.get(id)
        if (!p) continue
        const code = ERRNO_NAMES.get(Number(a)) ?? 'ESPAWN'
        this.settleFailed(
          id,
          Object.assign(new Error(`spawn ${p.plan.file} ${code}`), { code, errno: -Number(a) }),
        )
      } else if (kind === 'relayed') {
        const spool = this.relaying.get(id)
        if (spool) {
          this.relaying.delete(id)
          for (const tail of [spool.stdout, spool.stderr]) tail.relayEnded()
        } else if (this.pending.has(id)) this.relayedEarly.add(id)
      } else if (kind === 'exit') {
        const exit: [number | null, NodeJS.Signals | null] = [
          a === '-' ? null : Number(a),
          b === '-' ? null : (SIGNAL_NAMES.get(Number(b)) ?? null),
        ]
        const p = this.pending.get(id)
        if (!p) this.live.get(id)?.exited(...exit)
        else {
          // Its input connected before its program ran, and the connection is on its way;
          // should it never come, the launch must not wait for ever.
          p.exit = exit
          setTimeout(
            () => this.settleFailed(id, new Error('it ended before its input was connected')),
            STDIN_GRACE_MS,
          ).unref()
        }
      }
    }
  }

  /** The child of launch `id` writes its output through relay `pid` (see {@link FORKER}). */
  private relayBy(id: number, spool: Spool, pid: number): void {
    if (!(pid > 0)) return
    for (const tail of [spool.stdout, spool.stderr]) tail.relayed(pid)
    if (!this.relayedEarly.delete(id)) this.relaying.set(id, spool)
    else for (const tail of [spool.stdout, spool.stderr]) tail.relayEnded()
  }

  private maybeResolve(id: number, p: Pending): void {
    if (!p.pid || !p.stdin) return
    this.pending.delete(id)
    const child = new RemoteChild(p.pid, p.stdin, p.spool.stdout, p.spool.stderr, () => {
      this.live.delete(id)
      this.updateRef()
    })
    this.live.set(id, child)
    p.resolve(child)
    const exit = p.exit
    // After whoever launched it has listened (the launch resolves in a microtask).
    if (exit) setImmediate(() => child.exited(...exit))
  }

  private settleFailed(id: number, err: Error): void {
    const p = this.pending.get(id)
    if (!p) return
    this.pending.delete(id)
    this.byToken.delete(p.token)
    this.relayedEarly.delete(id)
    this.relaying.delete(id)
    // A child already started would run unwatched.
    if (p.pid > 0) signalGroup(p.pid, 'SIGKILL')
    p.stdin?.destroy()
    p.reject(err)
    this.updateRef()
  }

  private lost(proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.proc !== proc) return
    this.proc = null
    const why = `Corral's forker ended (${signal ?? `exit code ${code}`})`
    // No relay will be reported done any more: the tails watch their relays' pids instead.
    this.relaying.clear()
    if (!this.ready) {
      // It cannot run here: the spawner starts everything from now on, these too.
      if (!this.closed) console.error(`corral: ${why} before it was ready; using the spawner`)
      this.fallback = true
      for (const [id, p] of [...this.pending]) {
        this.pending.delete(id)
        this.byToken.delete(p.token)
        p.stdin?.destroy()
        this.spawner.launch(p.plan, p.spool).then(p.resolve, p.reject)
      }
    } else {
      for (const id of [...this.pending.keys()]) this.settleFailed(id, new Error(why))
      if (!this.closed && this.live.size > 0) console.error(`corral: ${why}`)
    }
    for (const child of this.live.values()) child.lost()
    this.updateRef()
  }

  /** End the forker (its stdin closes) and stop listening. */
  private letGo(): void {
    this.proc?.stdin?.end()
    this.server?.close()
    this.server = null
  }

  /** The forker keeps Corral running only while a launch or an exit is still to come. */
  private updateRef(): void {
    const proc = this.proc
    const busy = this.pending.size > 0 || this.live.size > 0
    if (proc) {
      const out = proc.stdout as unknown as { ref(): void; unref(): void }
      if (busy) {
        proc.ref()
        out.ref()
      } else {
        proc.unref()
        out.unref()
      }
    }
    if (!busy && this.closed) this.letGo()
  }
}
