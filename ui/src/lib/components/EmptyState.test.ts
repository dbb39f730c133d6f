import { render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import EmptyState from "./EmptyState.svelte";
import { nothingFound, source } from "../testing/fixtures";

describe("EmptyState", () => {
  it("says no kubeconfig was found and where Porthole looked", () => {
    render(EmptyState, { list: nothingFound });
    expect(screen.getByRole("heading").textContent).toBe("No kubeconfig found");
    expect(screen.getByText("/home/ada/.kube/config")).toBeTruthy();
  });

  it("tells an empty file apart from a missing one", () => {
    render(EmptyState, {
      list: {
        ...nothingFound,
        sources: [source("/k/empty.yaml", { state: "loaded", contexts: 0 })],
      },
    });
    expect(screen.getByRole("heading").textContent).toBe("Your kubeconfig has no contexts");
  });
});
