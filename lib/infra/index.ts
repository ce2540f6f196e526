export { AUTH_CA_SECRET_ACTIONS, AUTH_TABLE_ACTIONS } from './auth-service-access.js';
export type { MachineIdBotRegistration } from './bot-join-resources.js';
export { iamTokenName } from './bot-name-rules.js';
export { type Deployment, loadDeployment, parseDeployment } from './deployment.js';
export { MachineIdAuth, type MachineIdAuthProps, type MachineIdLogLevel } from './machine-id-auth.js';
export { MachineIdBot, type MachineIdBotProps } from './machine-id-bot.js';
export {
  MachineIdBotOutput,
  type MachineIdBotOutputProps,
  type MachineIdOutputType,
  METRIC_NAMESPACE,
  outputTarget,
  SECRET_READ_ACTIONS,
} from './machine-id-bot-output.js';
export { MachineIdStack, type MachineIdStackProps, stackIdFor } from './machine-id-stack.js';
export { UNINITIALISED_SECRET_VALUE } from './uninitialised-secret-value.js';
