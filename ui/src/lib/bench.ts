// The marks the UI benchmark (make bench-ui, tests/ui_bench) reads through
// WebDriver: `porthole:reset-received` (a complete list's notice came),
// `porthole:rows-asked:<filter>` and `porthole:rows:<filter>` (rows for a
// filter text were asked for, and came). Nothing else in the app times
// itself; this is the one place that writes to the performance timeline.

/** Marks `name` now, keeping one mark per name (a long session does not pile them up). */
export function benchMark(name: string): void {
  performance.clearMarks(name);
  performance.mark(name);
}
