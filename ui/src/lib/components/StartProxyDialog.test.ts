import { fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import StartProxyDialog from "./StartProxyDialog.svelte";
import { setLocale } from "../i18n/index.svelte";
import { LinkOpener } from "../opening.svelte";

afterEach(() => {
  setLocale("en");
  document.body.innerHTML = "";
});

function withOpener() {
  const opener = document.createElement("button");
  opener.textContent = "80";
  document.body.appendChild(opener);
  opener.focus();
  return opener;
}

describe("StartProxyDialog", () => {
  it("is a labelled modal question, focused on the default button", () => {
    withOpener();
    render(StartProxyDialog, { props: { target: "monitoring/grafana:3000", onanswer: vi.fn() } });
    const dialog = screen.getByRole("alertdialog", { name: "Start the local proxy?" });
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(document.getElementById(dialog.getAttribute("aria-describedby")!)?.textContent?.trim()).toBe(
      "The local proxy is off. Start it and open monitoring/grafana:3000?",
    );
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Start and open" }));
  });

  it("Enter starts, on the default button or anywhere but Cancel", async () => {
    const onanswer = vi.fn();
    render(StartProxyDialog, { props: { target: "a/b:80", onanswer } });
    await fireEvent.keyDown(screen.getByRole("button", { name: "Start and open" }), { key: "Enter" });
    expect(onanswer).toHaveBeenLastCalledWith(true);
    await fireEvent.keyDown(screen.getByRole("alertdialog"), { key: "Enter" });
    expect(onanswer).toHaveBeenLastCalledWith(true);
    await fireEvent.keyDown(screen.getByRole("button", { name: "Cancel" }), { key: "Enter" });
    expect(onanswer).toHaveBeenLastCalledWith(false);
  });

  it("Escape, Cancel and a click outside say no", async () => {
    const onanswer = vi.fn();
    render(StartProxyDialog, { props: { target: "a/b:80", onanswer } });
    await fireEvent.keyDown(screen.getByRole("button", { name: "Start and open" }), { key: "Escape" });
    expect(onanswer).toHaveBeenLastCalledWith(false);
    await fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(onanswer).toHaveBeenLastCalledWith(false);
    await fireEvent.click(screen.getByRole("presentation"));
    expect(onanswer).toHaveBeenLastCalledWith(false);
    expect(onanswer).toHaveBeenCalledTimes(3);
    await fireEvent.click(screen.getByRole("button", { name: "Start and open" }));
    expect(onanswer).toHaveBeenLastCalledWith(true);
  });

  it("keeps Tab inside and gives focus back when it closes", async () => {
    const before = withOpener();
    const { unmount } = render(StartProxyDialog, { props: { target: "a/b:80", onanswer: vi.fn() } });
    const start = screen.getByRole("button", { name: "Start and open" });
    const cancel = screen.getByRole("button", { name: "Cancel" });
    await fireEvent.keyDown(start, { key: "Tab" });
    expect(document.activeElement).toBe(cancel);
    await fireEvent.keyDown(cancel, { key: "Tab", shiftKey: true });
    expect(document.activeElement).toBe(start);
    unmount();
    expect(document.activeElement).toBe(before);
  });

  it("speaks Chinese", () => {
    setLocale("zh-CN");
    render(StartProxyDialog, { props: { target: "a/b:80", onanswer: vi.fn() } });
    expect(screen.getByRole("alertdialog", { name: "启动本地代理？" }).textContent).toContain(
      "本地代理未运行。要启动它并打开 a/b:80 吗？",
    );
    expect(screen.getByRole("button", { name: "启动并打开" })).toBeTruthy();
  });
});

describe("LinkOpener", () => {
  it("opens at once when the backend opened it", async () => {
    const open = vi.fn().mockResolvedValue({ kind: "opened" });
    const opener = new LinkOpener(open);
    expect(await opener.open("http://x/")).toBe("opened");
    expect(open).toHaveBeenCalledTimes(1);
    expect(opener.question).toBeNull();
  });

  it("asks, then opens with consent or leaves it", async () => {
    const open = vi.fn(async (_url: string, start?: boolean) =>
      start ? ({ kind: "opened" } as const) : ({ kind: "proxyOffAskFirst", target: "a/b:80" } as const),
    );
    const opener = new LinkOpener(open);
    const yes = opener.open("http://x/");
    await vi.waitFor(() => expect(opener.question).toEqual({ target: "a/b:80" }));
    opener.answer(true);
    expect(await yes).toBe("opened");
    expect(open).toHaveBeenLastCalledWith("http://x/", true);

    const no = opener.open("http://x/");
    await vi.waitFor(() => expect(opener.question).not.toBeNull());
    opener.answer(false);
    expect(await no).toBe("cancelled");
    expect(open).toHaveBeenCalledTimes(3);
    expect(opener.question).toBeNull();
  });

  it("a newer question replaces an unanswered one", async () => {
    const open = vi.fn().mockResolvedValue({ kind: "proxyOffAskFirst", target: "a/b:80" });
    const opener = new LinkOpener(open);
    const first = opener.open("http://1/");
    await vi.waitFor(() => expect(opener.question).not.toBeNull());
    const second = opener.open("http://2/");
    expect(await first).toBe("cancelled");
    opener.answer(false);
    expect(await second).toBe("cancelled");
  });
});
