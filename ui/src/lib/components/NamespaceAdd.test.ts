import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import NamespaceAdd from "./NamespaceAdd.svelte";
import type { NamespaceList } from "../bindings/NamespaceList";
import { setLocale } from "../i18n/index.svelte";
import { NamespacePicker } from "../namespacePicker.svelte";
import { forbidden } from "../testing/namespaces";

afterEach(() => setLocale("en"));

async function setup(list: NamespaceList = forbidden) {
  const backend = {
    listNamespaces: vi.fn().mockResolvedValue(list),
    addNamespace: vi.fn(async (_ctx: string, ns: string) => [...list.added, ns].sort()),
    removeNamespace: vi.fn(async (_ctx: string, ns: string) => list.added.filter((n) => n !== ns)),
  };
  const onchoose = vi.fn();
  const onnotice = vi.fn();
  const picker = new NamespacePicker("ctx", backend, onchoose);
  await picker.load();
  render(NamespaceAdd, { props: { picker, onnotice } });
  const input = screen.getByLabelText("Namespace to add") as HTMLInputElement;
  const submit = async (value: string) => {
    await fireEvent.input(input, { target: { value } });
    await fireEvent.submit(input.closest("form")!);
  };
  return { backend, onchoose, onnotice, input, submit };
}

describe("NamespaceAdd", () => {
  it("says what is shown instead, and lists the added namespaces", async () => {
    await setup();
    expect(screen.getByRole("status").textContent).toContain(
      "Listing namespaces is not allowed for this user: showing team-a, monitoring.",
    );
    expect([...screen.getByTestId("namespaces-added").querySelectorAll("li")].map((li) => li.dataset.name)).toEqual([
      "monitoring",
    ]);
  });

  it("says why namespaces could not be listed when it was not a refusal", async () => {
    await setup({ ...forbidden, added: [], degraded: { resource: "namespaces", namespace: null, reason: "timeout", forbidden: false } });
    expect(screen.getByRole("status").textContent).toContain("(timeout)");
    expect(screen.queryByTestId("namespaces-added")).toBeNull();
  });

  it("adds a valid name, clears the field and the notice", async () => {
    const { backend, onchoose, onnotice, input, submit } = await setup();
    await submit(" kube-public ");
    await waitFor(() => expect(backend.addNamespace).toHaveBeenCalledWith("ctx", "kube-public"));
    await waitFor(() => expect(onchoose).toHaveBeenCalledWith("kube-public"));
    expect(onnotice).toHaveBeenLastCalledWith(null);
    expect(input.value).toBe("");
  });

  it("refuses what is not a namespace name, and typing clears the complaint", async () => {
    const { backend, input, submit } = await setup();
    await submit("Team-B");
    expect(screen.getByRole("alert").textContent).toContain("“Team-B” would be “team-b”");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(input.getAttribute("aria-describedby")).toBe("ns-add-problem");
    await fireEvent.input(input, { target: { value: "team-b" } });
    expect(screen.queryByRole("alert")).toBeNull();
    expect(input.getAttribute("aria-describedby")).toBe("ns-add-hint");
    expect(backend.addNamespace).not.toHaveBeenCalled();
  });

  it("shows a name offered already, with a notice, without adding it", async () => {
    const { backend, onchoose, onnotice, input, submit } = await setup();
    await submit("monitoring");
    expect(backend.addNamespace).not.toHaveBeenCalled();
    expect(onchoose).toHaveBeenCalledWith("monitoring");
    expect(onnotice).toHaveBeenCalledWith({ text: "monitoring is already in the list: it is selected now.", error: false });
    expect(input.value).toBe("");
  });

  it("tells the view when removing fails", async () => {
    const { backend, onnotice } = await setup();
    backend.removeNamespace.mockRejectedValueOnce("disk full");
    await fireEvent.click(screen.getByRole("button", { name: "Remove monitoring" }));
    await waitFor(() =>
      expect(onnotice).toHaveBeenCalledWith({ text: "The namespace could not be removed: disk full", error: true }),
    );
  });

  it("speaks Chinese", async () => {
    setLocale("zh-CN");
    const backend = {
      listNamespaces: vi.fn().mockResolvedValue(forbidden),
      addNamespace: vi.fn(),
      removeNamespace: vi.fn(),
    };
    const picker = new NamespacePicker("ctx", backend, vi.fn());
    await picker.load();
    render(NamespaceAdd, { props: { picker, onnotice: vi.fn() } });
    expect(screen.getByTestId("namespace-add-button").textContent).toBe("添加");
    expect(screen.getByLabelText("要添加的命名空间")).toBeTruthy();
  });
});
