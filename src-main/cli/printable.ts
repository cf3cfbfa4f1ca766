/*
 * Hospital and patient names, file names and error messages come from files someone else wrote. Printed raw,
 * an escape sequence in one could rewrite the terminal (move the cursor, hide text, set the window title):
 * every C0 and C1 control character but newline and tab is shown as U+FFFD instead.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function printable(text: string): string {
  return text.replace(CONTROL, '\uFFFD');
}
