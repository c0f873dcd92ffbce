/** The browser to launch, or undefined for Playwright's own. */
export declare const chromiumExecutable: string | undefined
/** Flags for a headless run without background network traffic. */
export declare const chromiumArgs: string[]
/** Whether Chromium can keep its shared memory in /dev/shm (it has 1 GiB free). */
export declare function devShmUsable(): boolean
