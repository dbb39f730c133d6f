import { fireEvent, render, screen } from "@testing-library/svelte";
import type { ComponentProps } from "svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import ConfigView from "./ConfigView.svelte";
import { setLocale } from "../i18n/index.svelte";

// `context` is also a Svelte mount option: props go under `props`.
const show = (props: ComponentProps<typeof ConfigView>) => render(ConfigView, { props });

afterEach(() => {
  setLocale("en");
  vi.unstubAllGlobals();
});

const yaml = "apiVersion: v1\nusers:\n- name: sre\n  user:\n    token: REDACTED\n";

describe("ConfigView", () => {
  it("shows the redacted view of the context, monospace and focusable for scrolling", async () => {
    const load = vi.fn().mockResolvedValue(yaml);
    show({ context: "staging", load });
    const pre = await screen.findByTestId("config-text");
    expect(load).toHaveBeenCalledWith("staging");
    expect(pre.textContent).toBe(yaml);
    expect(pre.tagName).toBe("PRE");
    expect(pre.tabIndex).toBe(0);
    expect(pre.getAttribute("aria-label")).toBe("Configuration of staging, secrets masked");
  });

  it("reads the view again when the context or the kubeconfig changes", async () => {
    const load = vi.fn().mockResolvedValue(yaml);
    const { rerender } = show({ context: "staging", load, revision: 1 });
    await screen.findByTestId("config-text");
    await rerender({ context: "staging", load, revision: 2 });
    await rerender({ context: "kind-porthole", load, revision: 2 });
    await screen.findByTestId("config-text");
    expect(load.mock.calls.map((c) => c[0])).toEqual(["staging", "staging", "kind-porthole"]);
  });

  it("copies the text", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    show({ context: "staging", load: vi.fn().mockResolvedValue(yaml) });
    await screen.findByTestId("config-text");
    await fireEvent.click(screen.getByTestId("copy-config"));
    expect(writeText).toHaveBeenCalledWith(yaml);
    await vi.waitFor(() => expect(screen.getByTestId("copy-config").textContent?.trim()).toBe("Copied"));
  });

  it("says why the view cannot be shown", async () => {
    show({
      context: "gone",
      load: vi.fn().mockRejectedValue('no context named "gone" in the kubeconfig'),
    });
    expect((await screen.findByRole("alert")).textContent).toBe(
      'Cannot show the configuration: no context named "gone" in the kubeconfig',
    );
  });

  it("speaks Simplified Chinese", async () => {
    setLocale("zh-CN");
    show({ context: "staging", load: vi.fn().mockResolvedValue(yaml) });
    await screen.findByTestId("config-text");
    expect(screen.getByTestId("copy-config").textContent?.trim()).toBe("复制");
  });
});
