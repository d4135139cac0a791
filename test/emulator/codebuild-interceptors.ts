import type { BuildLifecycle, BuildOutcome } from "./build-scripts.js";
import { buildView, startedView } from "./build-view.js";
import { isoToEpochSeconds } from "./epoch-seconds.js";
import { runBuild } from "./build-run.js";
import type { Interceptors } from "./interceptor.js";
import { motoJsonCall } from "./moto-client.js";
import { errorReply } from "./aws-errors.js";
import { MAX_IDS_PER_CALL } from "./batch-interceptors.js";
import { isOk, jsonReply, replyJson, withJsonBody, type Reply } from "./reply.js";

/** CodeBuild as the pipeline sees it: builds that do what their buildspec says (build-run.ts), fail or take time when scripted. */
export function codebuildInterceptors(builds: BuildLifecycle, motoEndpoint: string): Interceptors {
  return {
    "codebuild.StartBuild": async ({ call, forward }) => {
      // CodeBuild answers a repeated idempotency token with the build it already started; moto starts another.
      const earlier = builds.findByToken(call.input.idempotencyToken);
      if (earlier) return replayStartBuild(motoEndpoint, earlier.id, (build) => buildView(build, earlier));

      const reply = await forward();
      if (!isOk(reply)) return reply;
      const body = isoToEpochSeconds(replyJson(reply));
      const overrides = Array.isArray(call.input.environmentVariablesOverride) ? call.input.environmentVariablesOverride : [];
      const outcome: BuildOutcome = builds.takeFailure() ?? (await runBuild(motoEndpoint, body.build.id, call.input));
      const record = builds.started(body.build.id, outcome, overrides, call.input.idempotencyToken);
      return withJsonBody(reply, { ...body, build: startedView(body.build, record) });
    },

    "codebuild.BatchGetBuilds": async ({ call, forward }) => {
      const ids: unknown[] = Array.isArray(call.input.ids) ? call.input.ids : [];
      if (ids.length > MAX_IDS_PER_CALL) {
        return errorReply(call.protocol, 400, "InvalidInputException", `1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length less than or equal to ${MAX_IDS_PER_CALL}`);
      }
      const reply = await forward();
      if (!isOk(reply)) return reply;
      const body = isoToEpochSeconds(replyJson(reply));
      const found: any[] = Array.isArray(body?.builds) ? body.builds : [];
      const views = found.map((build) => {
        const record = builds.find(build.id);
        if (!record) return build;
        record.polls++;
        return buildView(build, record);
      });
      // moto silently drops unknown ids; CodeBuild lists them.
      const foundIds = new Set(found.map((build) => build.id));
      const requested: unknown[] = Array.isArray(call.input.ids) ? call.input.ids : [];
      const notFound = requested.filter((id) => !foundIds.has(id));
      return withJsonBody(reply, { ...body, builds: views, ...(notFound.length > 0 ? { buildsNotFound: notFound } : {}) });
    },

    // A scripted build still running stops; one that ended keeps its outcome, as on CodeBuild.
    "codebuild.StopBuild": async ({ call, forward }) => {
      const reply = await forward();
      if (!isOk(reply)) return reply;
      const body = isoToEpochSeconds(replyJson(reply));
      const record = builds.find(String(call.input.id ?? ""));
      if (!record) return withJsonBody(reply, body);
      if (record.polls <= record.slowPolls || record.gate?.open === false) record.stopped = true;
      return withJsonBody(reply, { ...body, build: buildView(body.build, record) });
    },

    // Every other CodeBuild answer only needs its timestamps fixed.
    "codebuild.*": async ({ forward }) => {
      const reply = await forward();
      const body = replyJson(reply);
      return body === undefined ? reply : withJsonBody(reply, isoToEpochSeconds(body));
    },
  };
}

async function replayStartBuild(motoEndpoint: string, buildId: string, view: (build: any) => any): Promise<Reply> {
  const answer = await motoJsonCall(motoEndpoint, "codebuild", "BatchGetBuilds", { ids: [buildId] });
  const build = isoToEpochSeconds(answer.json)?.builds?.[0];
  return jsonReply(200, { build: view(build) }, { "content-type": "application/x-amz-json-1.1" });
}
