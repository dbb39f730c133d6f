import { afterEach, describe, expect, it } from "vitest";
import { benchMark } from "./bench";

afterEach(() => performance.clearMarks());

describe("benchMark", () => {
  it("keeps one mark per name, the latest", () => {
    benchMark("porthole:rows:web");
    const first = performance.getEntriesByName("porthole:rows:web")[0]!.startTime;
    benchMark("porthole:rows:web");
    benchMark("porthole:rows:db");
    const marks = performance.getEntriesByName("porthole:rows:web");
    expect(marks).toHaveLength(1);
    expect(marks[0]!.entryType).toBe("mark");
    expect(marks[0]!.startTime).toBeGreaterThanOrEqual(first);
    expect(performance.getEntriesByName("porthole:rows:db")).toHaveLength(1);
  });
});
