// Opening a link, with the question the proxy settings may ask first: when
// the backend answers `proxyOffAskFirst`, the question waits in `question`
// (a StartProxyDialog shows it) until `answer` is called; yes starts the
// proxy and opens the link, no leaves everything as it was.
import type { OpenOutcome } from "./bindings/OpenOutcome";

export type OpenFn = (url: string, startProxy?: boolean) => Promise<OpenOutcome>;

/** What came of opening a link. */
export type Opened = "opened" | "cancelled";

export class LinkOpener {
  /** The open question: what the link opens. */
  question = $state<{ target: string } | null>(null);
  #openUrl: OpenFn;
  #resolve: ((yes: boolean) => void) | null = null;

  constructor(openUrl: OpenFn) {
    this.#openUrl = openUrl;
  }

  /** Opens `url`, asking first when the backend says to; rejects with the backend's reason. */
  async open(url: string): Promise<Opened> {
    const outcome = await this.#openUrl(url);
    if (outcome.kind === "opened") return "opened";
    if (!(await this.#ask(outcome.target))) return "cancelled";
    const again = await this.#openUrl(url, true);
    return again.kind === "opened" ? "opened" : "cancelled";
  }

  /** The user's answer to the open question. */
  answer(yes: boolean) {
    const resolve = this.#resolve;
    this.#resolve = null;
    this.question = null;
    resolve?.(yes);
  }

  #ask(target: string): Promise<boolean> {
    // A newer question replaces an unanswered one (which counts as no).
    this.answer(false);
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.question = { target };
    });
  }
}
