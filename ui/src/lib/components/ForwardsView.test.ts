import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import ForwardsView from "./ForwardsView.svelte";
import { ForwardList } from "../forwards.svelte";
import { setLocale } from "../i18n/index.svelte";
import { fakeForwards, forwardView } from "../testing/forwards";

afterEach(() => setLocale("en"));

function setup(views = [forwardView("postgres", 5432, 5432)]) {
  const fake = fakeForwards(views);
  const list = new ForwardList(fake.backend);
  const copy = vi.fn().mockResolvedValue(undefined);
  render(ForwardsView, { props: { list, copy } });
  return { ...fake, list, copy };
}

const row = () => screen.getByTestId("forward-row");

describe("ForwardsView", () => {
  it("says how to start one when there is none", async () => {
    setup([]);
    await waitFor(() => expect(screen.getByTestId("forwards-empty")).toBeTruthy());
    expect(screen.getByTestId("forwards-empty").textContent).toContain("“Forward” on a port");
    expect((screen.getByTestId("forwards-start-all") as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows each forward's state, address, target, connections, traffic and Pod", async () => {
    const healed = forwardView("postgres", 5432, 15432);
    healed.status = {
      ...healed.status,
      connectionsActive: 1,
      connectionsTotal: 12,
      bytesSent: 2048,
      bytesReceived: 3 * 1024 * 1024,
      heals: 2,
      pod: "postgres-7",
    };
    const failed = forwardView("redis", 6379, 6379, {
      kind: "failed",
      reason: "forbidden: pods/portforward is not allowed",
    });
    setup([healed, failed]);
    await waitFor(() => expect(screen.getAllByTestId("forward-row")).toHaveLength(2));
    const [first, second] = screen.getAllByTestId("forward-row");
    const one = within(first!);
    expect(one.getByTestId("forward-state").textContent).toContain("Listening");
    expect(one.getByTestId("forward-row-address").textContent).toBe("127.0.0.1:15432");
    expect(first!.textContent).toContain("team-a/svc/postgres:5432");
    expect(one.getByTestId("forward-connections").textContent?.trim()).toBe("1 open, 12 in all");
    expect(one.getByTestId("forward-bytes").textContent?.trim()).toBe(
      "2.0 KiB sent, 3.0 MiB received",
    );
    expect(first!.textContent).toContain("postgres-7");
    expect(first!.textContent).toContain("moved to another Pod 2 times");
    expect(first!.textContent).toMatch(/\S · moved to another Pod/);
    expect(second!.dataset.state).toBe("failed");
    expect(within(second!).getByTestId("forward-row-failed").textContent).toContain(
      "pods/portforward is not allowed",
    );
    expect(screen.getByTestId("forwards-count").textContent).toBe("1 of 2 running");
  });

  it("stops, starts, restarts and removes, each button named for its forward", async () => {
    const { backend } = setup();
    await waitFor(() => expect(row().dataset.state).toBe("listening"));
    const stop = screen.getByRole("button", { name: "Stop the forward to team-a/svc/postgres:5432" });
    await fireEvent.click(stop);
    await waitFor(() => expect(row().dataset.state).toBe("stopped"));
    expect(backend.stopForward).toHaveBeenCalledWith("ctx/team-a/svc/postgres:5432");
    await fireEvent.click(screen.getByTestId("forward-start"));
    await waitFor(() => expect(row().dataset.state).toBe("listening"));
    await fireEvent.click(screen.getByTestId("forward-restart"));
    expect(backend.restartForward).toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId("forward-remove"));
    await waitFor(() => expect(screen.getByTestId("forwards-empty")).toBeTruthy());
  });

  it("sets the local port with Enter, refusing one that is not a port", async () => {
    const { backend } = setup();
    await waitFor(() => expect(row()).toBeTruthy());
    const input = screen.getByTestId("forward-port-input") as HTMLInputElement;
    expect(input.value).toBe("5432");
    expect(input.getAttribute("aria-label")).toBe("Local port of the forward to team-a/svc/postgres:5432");
    await fireEvent.input(input, { target: { value: "70000" } });
    await fireEvent.submit(input.form!);
    expect(screen.getByRole("alert").textContent).toBe("Give a port from 1 to 65535.");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(backend.setForwardLocalPort).not.toHaveBeenCalled();
    await fireEvent.input(input, { target: { value: " 15432 " } });
    await fireEvent.submit(input.form!);
    await waitFor(() => expect(backend.setForwardLocalPort).toHaveBeenCalledWith("ctx/team-a/svc/postgres:5432", 15432));
    await waitFor(() => expect(screen.getByTestId("forward-row-address").textContent).toBe("127.0.0.1:15432"));
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("toggles restore at start, and Start all starts the stopped ones", async () => {
    const { backend } = setup([
      forwardView("postgres", 5432, 5432, { kind: "stopped" }),
      forwardView("redis", 6379, 6379),
    ]);
    await waitFor(() => expect(screen.getAllByTestId("forward-row")).toHaveLength(2));
    const restore = screen.getAllByTestId("forward-restore")[0] as HTMLInputElement;
    expect(restore.checked).toBe(true);
    await fireEvent.click(restore);
    await waitFor(() =>
      expect(backend.setForwardRestore).toHaveBeenCalledWith("ctx/team-a/svc/postgres:5432", false),
    );
    const all = screen.getByTestId("forwards-start-all") as HTMLButtonElement;
    expect(all.disabled).toBe(false);
    await fireEvent.click(all);
    await waitFor(() => expect(screen.getByTestId("forwards-count").textContent).toBe("2 of 2 running"));
    expect(all.disabled).toBe(true);
  });

  it("copies the address and a client command", async () => {
    const { copy } = setup();
    await waitFor(() => expect(row()).toBeTruthy());
    await fireEvent.click(screen.getByRole("button", { name: "Copy 127.0.0.1:5432" }));
    expect(copy).toHaveBeenCalledWith("127.0.0.1:5432");
    await fireEvent.click(screen.getByRole("button", { name: "Copy “psql -h 127.0.0.1 -p 5432”" }));
    expect(copy).toHaveBeenCalledWith("psql -h 127.0.0.1 -p 5432");
    await waitFor(() => expect(screen.getByTestId("forwards-notice").textContent).toContain("Copied"));
  });

  it("speaks Chinese", async () => {
    setLocale("zh-CN");
    setup([forwardView("postgres", 5432, 5432, { kind: "waitingForPod" })]);
    await waitFor(() => expect(row()).toBeTruthy());
    expect(screen.getByTestId("forward-state").textContent).toContain("正在等待就绪的 Pod");
    expect(screen.getByTestId("forwards-start-all").textContent).toBe("全部启动");
  });
});
