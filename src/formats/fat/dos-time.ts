// DOS dates and times as FAT stores them: local time with 2-second steps from 1980 to 2107.
// mkbundle writes UTC (the build's epoch), so the same inputs give the same bytes anywhere.
const MIN = Date.UTC(1980, 0, 1) / 1000;
const MAX = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000;

export function dosDateTime(seconds: number): { date: number; time: number } {
  const d = new Date(Math.min(MAX, Math.max(MIN, Math.floor(seconds))) * 1000);
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
  };
}

export function fromDosDateTime(date: number, time: number): number {
  const year = 1980 + (date >> 9);
  const month = Math.max(1, (date >> 5) & 0x0f);
  const day = Math.max(1, date & 0x1f);
  return Date.UTC(year, month - 1, day, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2) / 1000;
}
