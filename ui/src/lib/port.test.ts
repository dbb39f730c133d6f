import { describe, expect, it } from "vitest";
import { parsePort } from "./port";

describe("parsePort", () => {
  it("takes 0 to 65535, spaces around", () => {
    expect(parsePort("8001")).toBe(8001);
    expect(parsePort(" 0 ")).toBe(0);
    expect(parsePort("65535")).toBe(65535);
    expect(parsePort("08080")).toBe(8080);
  });

  it("refuses what is not a port", () => {
    for (const text of ["", " ", "8o01", "-1", "65536", "99999", "123456", "80.5", "1e3", "80 81"]) {
      expect(parsePort(text), text).toBeNull();
    }
  });
});
