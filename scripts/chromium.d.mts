/** The browser to launch, or undefined for Playwright's own. */
export declare const chromiumExecutable: string | undefined
/** Flags for a headless run without background network traffic. */
export declare const chromiumArgs: string[]
