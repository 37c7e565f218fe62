// Terminal escapes in a guest's console (colours, cursor moves), removed before matching or saving.
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export const stripAnsi = (s: string): string => s.replace(ANSI, "");
