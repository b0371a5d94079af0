import { App } from 'aws-cdk-lib';
import { buildAlgoplanes } from './algoplanes.ts';

// Context: -c env=dev|prod -c hotPath=nats|kafka (defaults in cdk.json); optional -c bridgeEntry=<path>.
const app = new App();
buildAlgoplanes(app, {
  env: app.node.tryGetContext('env') ?? 'dev',
  hotPath: app.node.tryGetContext('hotPath') ?? 'nats',
  projectRoot: process.cwd(),
  bridgeEntry: app.node.tryGetContext('bridgeEntry'),
  nag: true,
});
app.synth();
