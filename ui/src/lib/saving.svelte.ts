// Saving one of Porthole's settings from a form: whether a save is under
// way (its controls wait), and, when the last one failed, why, in the
// user's language.
import { errorText } from "./api";
import { t } from "./i18n/index.svelte";

export class SettingsSave {
  saving = $state(false);
  /** Why the last save (or a check before it) failed; null: it did not. */
  problem = $state<string | null>(null);

  /** Runs `save`; true when it succeeded (the problem is cleared), false when it failed (the problem says why). */
  async run(save: () => Promise<void>): Promise<boolean> {
    this.saving = true;
    try {
      await save();
      this.problem = null;
      return true;
    } catch (e) {
      this.problem = t("settingsSaveFailed", { reason: errorText(e) });
      return false;
    } finally {
      this.saving = false;
    }
  }
}
