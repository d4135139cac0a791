import { updateCheckout } from "../git/update-checkout.js";
import { configOriginOf } from "./ledgers.js";
import { loadPipelineSet, type PipelineSet } from "./pipeline-set.js";

/** The pipelines the service runs, as last loaded; only `reload` replaces them. */
export interface LoadedPipelines {
  current(): PipelineSet;
  /** The config checkout's origin URL as of the last load: the default records repository. */
  configOrigin(): string | undefined;
  /**
   * Pulls the checkout when asked, then loads the files again (a file with problems keeps its
   * last good copy) and reads the origin again. Throws when the pull fails, keeping what was loaded.
   */
  reload(pull: boolean): Promise<PipelineSet>;
}

export function createLoadedPipelines(dir: string, clock: () => number, first: { set: PipelineSet; configOrigin: string | undefined }): LoadedPipelines {
  let set = first.set;
  let configOrigin = first.configOrigin;
  return {
    current: () => set,
    configOrigin: () => configOrigin,
    async reload(pull) {
      if (pull) await updateCheckout(dir);
      set = await loadPipelineSet(dir, clock(), set);
      configOrigin = await configOriginOf(dir);
      return set;
    },
  };
}
