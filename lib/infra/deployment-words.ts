import { formatDuration } from '../core/duration.js';
import type { BotFieldWords } from './bot-rules.js';

/**
 * How refusals in a deployment file name fields and durations: as the file writes them (`name`,
 * `renewal_interval`, `20m`), so that the reader can find what to change without knowing the constructs.
 */
export const FILE_WORDS: BotFieldWords = {
  field: {
    botName: 'name',
    secretNamePrefix: 'secret_name_prefix',
    renewalInterval: 'renewal_interval',
    certificateTtl: 'certificate_ttl',
    flexibleTimeWindow: 'flexible_time_window',
    appName: 'app_name',
    specificTlsNaming: 'specific_tls_naming',
    kubernetesCluster: 'kubernetes_cluster',
    principals: 'principals',
  },
  written: formatDuration,
  said: formatDuration,
};
