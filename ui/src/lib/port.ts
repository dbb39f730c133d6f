// A proxy port typed by hand, as the status bar and the proxy settings
// take it: digits only (spaces around are fine), 0 to 65535 (0: any free
// port).

/** The port `text` names, or null when it is not one. */
export function parsePort(text: string): number | null {
  const digits = text.trim();
  if (!/^\d{1,5}$/.test(digits)) return null;
  const port = Number(digits);
  return port <= 65535 ? port : null;
}
