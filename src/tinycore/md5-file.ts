// NAME.tcz.md5.txt: "<md5>  NAME.tcz" (md5sum's format).

export function parseMd5File(text: string): string | undefined {
  const m = /^\s*([0-9a-fA-F]{32})\b/.exec(text);
  return m ? m[1]!.toLowerCase() : undefined;
}

export const md5FileText = (md5: string, fileName: string): string => `${md5}  ${fileName}\n`;
