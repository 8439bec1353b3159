// Signs a payload with a sender's own Node library; prints the header value.
//   node sign.mjs stripe <secret> <unix timestamp> <payload>
//   node sign.mjs github <secret> <payload>
import Stripe from "stripe";
import { sign } from "@octokit/webhooks-methods";

const [kind, secret, ...rest] = process.argv.slice(2);
if (kind === "stripe") {
  const [timestamp, payload] = rest;
  const stripe = new Stripe("sk_test_unused");
  process.stdout.write(
    stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Number(timestamp) }),
  );
} else if (kind === "github") {
  process.stdout.write(await sign(secret, rest[0]));
} else {
  console.error(`unknown sender ${kind}`);
  process.exit(2);
}
