// Validates the ServiceMonitor, PodMonitor and PrometheusRule documents of a rendered chart
// (JSON array on stdin) against the Prometheus Operator CRD models. Prints one line per
// document; exits 1 if any is invalid or if a document of another kind was passed.
import { ServiceMonitor, PodMonitor, PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const kinds = { ServiceMonitor, PodMonitor, PrometheusRule };
const docs = JSON.parse(await new Promise((resolve) => {
  let s = "";
  process.stdin.on("data", (c) => (s += c));
  process.stdin.on("end", () => resolve(s));
}));
let failed = 0;
for (const doc of docs) {
  const Kind = kinds[doc.kind];
  if (!Kind) {
    console.log(`not a Prometheus Operator kind: ${doc.kind}`);
    failed++;
    continue;
  }
  try {
    new Kind(doc).validate();
    console.log(`valid ${doc.kind} ${doc.metadata?.name}`);
  } catch (e) {
    console.log(`INVALID ${doc.kind} ${doc.metadata?.name}: ${e.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
