// The one place mkbundle reads the process environment: a frozen snapshot, taken once per
// run by the context (context/), from which the settings table (settings.ts) and Razor's
// MK_BUNDLE_* translation take their values. Nothing downstream sees it.
export type Env = Readonly<Record<string, string | undefined>>;

export const processEnvironment = (): Env => Object.freeze({ ...process.env });
