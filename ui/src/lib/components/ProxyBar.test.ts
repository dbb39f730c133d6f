import { fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import ProxyBar from "./ProxyBar.svelte";
import type { ProxyStatus } from "../bindings/ProxyStatus";
import { setLocale } from "../i18n/index.svelte";

afterEach(() => setLocale("en"));

// The backend sends the request count as a JSON number (the binding says bigint).
function runningWith(requests: number): ProxyStatus {
  const status = {
    state: "running",
    address: "127.0.0.1:8001",
    url: "http://localhost:8001",
    requests,
    readOnly: false,
  };
  return status as unknown as ProxyStatus;
}
const running = runningWith(1234);
const inUse: ProxyStatus = {
  state: "failed",
  address: "127.0.0.1:8001",
  message: "127.0.0.1:8001 is in use",
  portInUse: true,
};

function props(status: ProxyStatus | null) {
  return {
    status,
    port: 8001,
    onstart: vi.fn().mockResolvedValue(undefined),
    onstop: vi.fn().mockResolvedValue(undefined),
    onport: vi.fn().mockResolvedValue(undefined),
  };
}

describe("ProxyBar", () => {
  it("shows where the proxy listens and its request count", () => {
    render(ProxyBar, props(running));
    const toggle = screen.getByRole("switch", { name: "Local proxy" });
    expect(toggle.getAttribute("aria-checked")).toBe("true");
    expect(screen.getByTestId("proxy-url").textContent).toBe("http://localhost:8001");
    expect(screen.getByTestId("proxy-requests").textContent).toBe("1,234 requests");
    expect(screen.getByRole("button", { name: "Copy http://localhost:8001" })).toBeTruthy();
  });

  it("follows live status updates", async () => {
    const { rerender } = render(ProxyBar, props(running));
    await rerender({ status: runningWith(1) });
    expect(screen.getByTestId("proxy-requests").textContent).toBe("1 request");
    await rerender({ status: { state: "stopped" } });
    expect(screen.getByRole("switch").getAttribute("aria-checked")).toBe("false");
    expect(screen.getByTestId("proxy-off").textContent).toContain("The proxy is off");
    expect(screen.queryByTestId("proxy-url")).toBeNull();
  });

  it("stops a running proxy and starts a stopped one", async () => {
    const on = props(running);
    render(ProxyBar, on);
    await fireEvent.click(screen.getByRole("switch"));
    expect(on.onstop).toHaveBeenCalledOnce();
    expect(on.onstart).not.toHaveBeenCalled();
    document.body.innerHTML = "";
    const off = props({ state: "stopped" });
    render(ProxyBar, off);
    await fireEvent.click(screen.getByRole("switch"));
    expect(off.onstart).toHaveBeenCalledOnce();
  });

  it("keeps the focus while switching and ignores a press meanwhile", async () => {
    const p = props(running);
    let finish: () => void = () => {};
    p.onstop.mockReturnValue(new Promise<void>((resolve) => (finish = resolve)));
    render(ProxyBar, p);
    const toggle = screen.getByRole("switch") as HTMLButtonElement;
    toggle.focus();
    await fireEvent.click(toggle);
    expect(toggle.disabled).toBe(false);
    expect(toggle.getAttribute("aria-busy")).toBe("true");
    expect(screen.getByTestId("proxy-state").textContent).toBe("Stopping…");
    await fireEvent.click(toggle);
    expect(p.onstop).toHaveBeenCalledOnce();
    finish();
    await vi.waitFor(() => expect(toggle.getAttribute("aria-busy")).toBe("false"));
    expect(document.activeElement).toBe(toggle);
  });

  it("is disabled until the status is known", () => {
    render(ProxyBar, props(null));
    expect((screen.getByRole("switch") as HTMLButtonElement).disabled).toBe(true);
  });

  it("copies the address", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    render(ProxyBar, props(running));
    await fireEvent.click(screen.getByTestId("proxy-copy"));
    expect(writeText).toHaveBeenCalledWith("http://localhost:8001");
    await vi.waitFor(() => expect(screen.getByTestId("proxy-copy").textContent?.trim()).toBe("Copied"));
  });

  it("says a port is in use and starts on another one", async () => {
    const p = props(inUse);
    render(ProxyBar, p);
    expect(screen.getByRole("alert").textContent).toBe("Port 8001 is in use by another program.");
    const input = screen.getByLabelText("Another port") as HTMLInputElement;
    expect(input.value).toBe("8001");
    await fireEvent.input(input, { target: { value: " 8080 " } });
    await fireEvent.click(screen.getByRole("button", { name: "Start on this port" }));
    expect(p.onport).toHaveBeenCalledWith(8080);
  });

  it("offers any free port", async () => {
    const p = props(inUse);
    render(ProxyBar, p);
    await fireEvent.click(screen.getByRole("button", { name: "Use a free port" }));
    expect(p.onport).toHaveBeenCalledWith(0);
  });

  it("refuses a port that is not one", async () => {
    const p = props(inUse);
    render(ProxyBar, p);
    const input = screen.getByLabelText("Another port") as HTMLInputElement;
    await fireEvent.input(input, { target: { value: "70000" } });
    await fireEvent.submit(input.closest("form")!);
    expect(p.onport).not.toHaveBeenCalled();
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByTestId("proxy-action-problem").textContent).toContain("1 to 65535");
  });

  it("offers a retry when the start failed for another reason", async () => {
    const p = props({
      state: "failed",
      address: "10.1.2.3:8001",
      message: "10.1.2.3 is not a loopback address",
      portInUse: false,
    });
    render(ProxyBar, p);
    expect(screen.getByRole("alert").textContent).toContain("not a loopback address");
    await fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(p.onstart).toHaveBeenCalledOnce();
  });

  it("shows the backend's reason when switching fails", async () => {
    const p = props(running);
    p.onstop.mockRejectedValue("the proxy is busy");
    render(ProxyBar, p);
    await fireEvent.click(screen.getByRole("switch"));
    await vi.waitFor(() =>
      expect(screen.getByTestId("proxy-action-problem").textContent).toBe(
        "The proxy could not be switched: the proxy is busy",
      ),
    );
  });

  it("speaks Simplified Chinese", () => {
    setLocale("zh-CN");
    render(ProxyBar, props(inUse));
    expect(screen.getByRole("switch", { name: "本地代理" })).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toBe("端口 8001 已被其他程序占用。");
    expect(screen.getByRole("button", { name: "使用空闲端口" })).toBeTruthy();
  });
});
