#!/usr/bin/env node
// The CDK app `cdk.json` runs: one Machine ID cluster from a deployment file.
//   npx cdk deploy -c deployment=deploy/prod.yaml     (or MID_DEPLOYMENT=deploy/prod.yaml)
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MidError } from '../lib/core/errors.js';
import { cliEnvironment } from '../lib/infra/cli-environment.js';
import { loadDeployment } from '../lib/infra/deployment.js';
import { MachineIdStack, stackIdFor } from '../lib/infra/machine-id-stack.js';

const DEFAULT_DEPLOYMENT = 'deploy/example.yaml';

function main(): void {
  const app = new App();
  const fromContext: unknown = app.node.tryGetContext('deployment');
  const path =
    typeof fromContext === 'string' && fromContext !== ''
      ? fromContext
      : (process.env['MID_DEPLOYMENT'] ?? DEFAULT_DEPLOYMENT);
  const deployment = loadDeployment(path);
  const env = cliEnvironment();
  new MachineIdStack(app, stackIdFor(deployment.cluster_name), {
    deployment,
    ...(env === undefined ? {} : { env }),
  });
  // The AWS Solutions rules run on every synth: a finding without a written suppression fails it.
  Aspects.of(app).add(new AwsSolutionsChecks());
  app.synth();
}

try {
  main();
} catch (error) {
  if (error instanceof MidError) {
    process.stderr.write(`ERROR: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
