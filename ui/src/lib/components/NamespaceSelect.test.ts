import { fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import NamespaceSelect from "./NamespaceSelect.svelte";
import type { NamespaceList } from "../bindings/NamespaceList";
import { setLocale } from "../i18n/index.svelte";
import { NamespacePicker } from "../namespacePicker.svelte";
import { listed } from "../testing/namespaces";

afterEach(() => setLocale("en"));

async function loaded(list: NamespaceList, onchoose = vi.fn()) {
  const picker = new NamespacePicker(
    "ctx",
    {
      listNamespaces: vi.fn().mockResolvedValue(list),
      addNamespace: vi.fn(),
      removeNamespace: vi.fn(),
    },
    onchoose,
  );
  await picker.load();
  return picker;
}

const options = () =>
  [...(screen.getByTestId("namespace-select") as HTMLSelectElement).options].map((o) => o.value);

describe("NamespaceSelect", () => {
  it("offers all namespaces first, and chooses one", async () => {
    const onchoose = vi.fn();
    const picker = await loaded(listed, onchoose);
    render(NamespaceSelect, { props: { picker } });
    expect(options()).toEqual(["*", "default", "kube-system"]);
    expect(screen.getByRole("option", { name: "All namespaces" })).toBeTruthy();
    await fireEvent.change(screen.getByLabelText("Namespace"), { target: { value: "kube-system" } });
    expect(onchoose).toHaveBeenCalledWith("kube-system");
    expect((screen.getByTestId("namespace-select") as HTMLSelectElement).value).toBe("kube-system");
  });

  it("offers no 'all' when namespaces cannot be listed", async () => {
    const picker = await loaded({
      namespaces: ["team-a"],
      contextNamespace: "team-a",
      listed: false,
      degraded: { resource: "namespaces", namespace: null, reason: "forbidden", forbidden: true },
      added: [],
    });
    render(NamespaceSelect, { props: { picker } });
    expect(options()).toEqual(["team-a"]);
    expect((screen.getByTestId("namespace-select") as HTMLSelectElement).value).toBe("team-a");
  });

  it("speaks Chinese", async () => {
    setLocale("zh-CN");
    const picker = await loaded({ namespaces: [], contextNamespace: "default", listed: true, degraded: null, added: [] });
    render(NamespaceSelect, { props: { picker } });
    expect(screen.getByLabelText("命名空间")).toBe(screen.getByTestId("namespace-select"));
    expect(screen.getByRole("option", { name: "所有命名空间" })).toBeTruthy();
  });
});
