// A panel's answer from the backend to a question that changes (the
// context, the service): nothing yet, the answer, or why there is none.
// Asked again from an $effect; the answer to an older question, coming
// late, is dropped.
import { errorText } from "./api";

export class Latest<T> {
  /** The answer; null until it came (or when it failed). */
  value = $state<T | null>(null);
  /** Why there is no answer. */
  failure = $state<string | null>(null);

  /**
   * Forgets the last answer and asks `ask`; returns what ends this question
   * (an $effect returns it, so a newer question drops this one's answer).
   */
  ask(ask: () => Promise<T>): () => void {
    let current = true;
    this.value = null;
    this.failure = null;
    ask().then(
      (v) => {
        if (current) this.value = v;
      },
      (e: unknown) => {
        if (current) this.failure = errorText(e);
      },
    );
    return () => {
      current = false;
    };
  }
}
