// The README's walk-through, through a client generated from the served OpenAPI document
// (openapi-typescript + openapi-fetch). It must type-check under `tsc --strict` without a
// cast, then run against a live server: `node out/walkthrough.js <base URL> <API key>`.
// Each step throws when the answer is not what the README says.

import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type WorkflowDefinition = components["schemas"]["WorkflowDefinition"];
type Problem = components["schemas"]["Problem"];

const [baseUrl, key] = process.argv.slice(2);
if (!baseUrl || !key) {
  throw new Error("usage: node out/walkthrough.js <base URL> <API key>");
}

const client = createClient<paths>({
  baseUrl,
  headers: { Authorization: `Bearer ${key}` },
});

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Error(`walk-through: ${what}`);
  }
}

/// A receiver standing in for the CRM and the Zapier hook: it answers 200 and counts.
async function receiver(): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on("end", () => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen };
}

// A definition written as a typed literal: the schema checks it at compile time.
const fieldService: WorkflowDefinition = {
  name: "field_service_job",
  initial: "created",
  states: [
    { name: "created" },
    { name: "scheduled" },
    { name: "in_progress" },
    { name: "completed", terminal: true },
    { name: "cancelled", terminal: true },
  ],
  transitions: [
    {
      name: "schedule",
      from: ["created"],
      to: "scheduled",
      guard: { "!!": [{ var: "transition.data.technician" }] },
    },
    { name: "start", from: ["scheduled"], to: "in_progress" },
    {
      name: "complete",
      from: ["in_progress"],
      to: "completed",
      guard: { "!!": [{ var: "transition.data.signed_by" }] },
    },
    { name: "cancel", from: ["created", "scheduled", "in_progress"], to: "cancelled" },
  ],
};

type TransitionAnswer =
  paths["/api/v1/jobs/{id}/transitions"]["post"]["responses"][200]["content"]["application/json"];
type Applied = components["schemas"]["Applied"];

/// The applied transition out of a transition's answer, if that is what it is.
function applied(answer: TransitionAnswer | components["schemas"]["TimerBody"] | undefined): Applied | undefined {
  return answer !== undefined && "job" in answer && !("dry_run" in answer) ? answer : undefined;
}

async function main(): Promise<void> {
  // Publish, and validate without publishing.
  const published = await client.POST("/api/v1/workflows", { body: fieldService });
  check(
    published.response.status === 201,
    `publish answered ${published.response.status}: ${JSON.stringify(published.error)}`,
  );
  check(published.data?.definition.states.length === 5, "the published definition reads back");
  const validation = await client.POST("/api/v1/workflows/validate", {
    body: { ...fieldService, initial: "nowhere" },
  });
  check(validation.data?.valid === false, "an unknown initial state is invalid");

  // Create a job.
  const created = await client.POST("/api/v1/jobs", {
    body: { workflow: "field_service_job", context: { customer: "Acme Boilers" } },
  });
  check(created.data !== undefined, `create answered ${created.response.status}`);
  const job = created.data.id;
  check(created.data.state === "created", "a new job starts in the initial state");

  // The guard needs a technician: a 409 read as a typed problem.
  const refused = await client.POST("/api/v1/jobs/{id}/transitions", {
    params: { path: { id: job } },
    body: { transition: "schedule" },
  });
  const problem: Problem | undefined = refused.error;
  check(refused.response.status === 409, `the guard answered ${refused.response.status}`);
  check(problem?.type.endsWith("guard-failed") === true, "the problem is guard-failed");
  check(problem?.values !== undefined, "the problem shows the values the guard read");

  // Schedule it at an expected version, safe to retry.
  const scheduled = await client.POST("/api/v1/jobs/{id}/transitions", {
    params: { path: { id: job }, header: { "Idempotency-Key": "schedule-1" } },
    body: { transition: "schedule", data: { technician: "Ana" }, expected_version: 0 },
  });
  // One type covers the three answers (applied, dry run, scheduled as a timer);
  // `applied` tells them apart by their members, no cast.
  const done = applied(scheduled.data);
  check(done !== undefined, `schedule answered ${scheduled.response.status}`);
  check(done.job.state === "scheduled", "the job is scheduled");

  // A dry run, told apart by its own field.
  const preview = await client.POST("/api/v1/jobs/{id}/transitions", {
    params: { path: { id: job }, query: { dry_run: true } },
    body: { to: "in_progress" },
  });
  check(
    preview.data !== undefined && "dry_run" in preview.data && preview.data.dry_run,
    "a dry run says so",
  );
  check(preview.data.event.type === "job.transitioned", "the planned event is a transition");

  // Not allowed from here: 409 naming the allowed transitions.
  const notAllowed = await client.POST("/api/v1/jobs/{id}/transitions", {
    params: { path: { id: job } },
    body: { transition: "schedule" },
  });
  check(notAllowed.response.status === 409, "a transition not allowed from here is a 409");
  check(
    notAllowed.error?.allowed_transitions?.some((t) => t.name === "start") === true,
    "the problem names the allowed transitions",
  );

  // Connections: credentials go in and never come back out.
  const target = await receiver();
  const crm = await client.POST("/api/v1/tenant/connections", {
    body: {
      provider: "generic_rest",
      connection_name: "CRM",
      credentials: { base_url: target.url, auth_header: "Bearer crm-token" },
    },
  });
  check(crm.data !== undefined, `the CRM connection answered ${crm.response.status}`);
  const hook = await client.POST("/api/v1/tenant/connections", {
    body: {
      provider: "webhook",
      connection_name: "Zapier catch hook",
      credentials: { webhook_url: `${target.url}/hooks/catch/acme`, signing_secret: "demo-signing-secret" },
    },
  });
  check(hook.data !== undefined, `the hook connection answered ${hook.response.status}`);
  const listed = await client.GET("/api/v1/tenant/connections");
  check(
    !JSON.stringify(listed.data).includes("crm-token"),
    "no credential comes back out",
  );

  // A workflow whose transitions call them: actions[0].status read with no cast.
  const notified = readFileSync(
    new URL("../../../fixtures/workflows/field_service_job_notified.json", import.meta.url),
    "utf8",
  )
    .replaceAll("$CRM_CONNECTION_ID", crm.data.id)
    .replaceAll("$ZAPIER_CONNECTION_ID", hook.data.id);
  const definition: WorkflowDefinition = JSON.parse(notified);
  const second = await client.POST("/api/v1/workflows", { body: definition });
  check(second.response.status === 201, `publishing with actions answered ${second.response.status}`);
  const job2 = await client.POST("/api/v1/jobs", {
    body: { workflow: "field_service_job_notified", context: { customer: "Acme Boilers" } },
  });
  check(job2.data !== undefined, "the second job was created");
  const moved = await client.POST("/api/v1/jobs/{id}/transitions", {
    params: { path: { id: job2.data.id } },
    body: { transition: "schedule", data: { technician: "Ana" } },
  });
  const applied2 = applied(moved.data);
  check(applied2 !== undefined, "the transition applied");
  const first = applied2.actions[0];
  check(first !== undefined, "the transition queued its actions");
  const status: "waiting" | "pending" | "running" | "succeeded" | "failed" | "skipped" | "cancelled" =
    first.status;
  check(["pending", "running", "succeeded", "waiting"].includes(status), `first action is ${status}`);
  let finished = false;
  for (let i = 0; i < 100 && !finished; i++) {
    const actions = await client.GET("/api/v1/jobs/{id}/actions", {
      params: { path: { id: job2.data.id } },
    });
    finished = actions.data?.items.every((a) => a.status === "succeeded") === true;
    if (!finished) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  check(finished, "both actions succeeded");
  check(target.seen.length >= 2, "the receiver saw the actions' requests");

  // A subscription to the job's events.
  const subscription = await client.POST("/api/hooks/webhooks", {
    body: {
      name: "Job monitor",
      url: `${target.url}/hooks/catch/events`,
      eventTypes: ["job.*", "action.failed"],
      secret: "a-long-random-secret",
    },
  });
  check(subscription.data !== undefined, `subscribe answered ${subscription.response.status}`);
  const types = await client.GET("/api/hooks/event-types");
  check(
    types.data?.items.some((t) => t.type === "job.transitioned") === true,
    "the catalogue lists job.transitioned",
  );
  const deliveries = await client.GET("/api/hooks/webhooks/{id}/deliveries", {
    params: { path: { id: subscription.data.id } },
  });
  check(deliveries.data !== undefined, "the deliveries read");

  // The log verifies.
  const verified = await client.GET("/api/v1/events/verify");
  check(verified.data?.ok === true, "every hash chain verifies");
  console.log("walk-through: every step answered as documented");
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
