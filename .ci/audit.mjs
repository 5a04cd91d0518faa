// The GraphQL-over-HTTP audit of the npm package graphql-http against a running server:
// `node audit.mjs http://127.0.0.1:PORT/graphql`. Prints every audit that did not pass and
// exits 1 on any MUST error or SHOULD warning (notices, the MAYs, are printed only).
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
const results = [];
for (const audit of serverAudits({ url })) {
  results.push(await audit.fn());
}
const count = (status) => results.filter((r) => r.status === status).length;
for (const r of results.filter((r) => r.status !== 'ok')) {
  console.log(`${r.status.padEnd(6)} ${r.id} ${r.name}: ${r.reason}`);
}
console.log(
  `audit: ${count('ok')} ok, ${count('error')} errors, ${count('warn')} warnings, ${count('notice')} notices`,
);
process.exit(count('error') + count('warn') > 0 ? 1 : 0);
