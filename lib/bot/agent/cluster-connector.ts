import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { OnboardingConfig } from '../config/onboarding-config.js';
import { BotRunError } from './bot-run-error.js';
import { type ClusterConnection, type ConnectOptions, connectToCluster } from './cluster-connection.js';

/**
 * The agent's connection to the auth service: made when a run first needs it, kept between runs, and
 * dropped after a failed attempt so that the next one checks the CA pin again (the service may have
 * come back with another CA). Said once in the log, then only when what it connects to changed, so that
 * a long outage or lock does not print a connection line at every retry.
 */
export class ClusterConnector {
  private connection: ClusterConnection | undefined;
  /** What the last "Connected to the auth service" line said. */
  private announced: string | undefined;

  constructor(
    private readonly authServer: string,
    private readonly onboarding: OnboardingConfig,
    private readonly options: ConnectOptions,
    private readonly logger: Logger,
  ) {}

  static forAgent(
    config: { readonly auth_server: string; readonly onboarding: OnboardingConfig },
    options: Omit<ConnectOptions, 'clock'> | undefined,
    clock: Clock,
    logger: Logger,
  ): ClusterConnector {
    return new ClusterConnector(config.auth_server, config.onboarding, { ...options, clock }, logger);
  }

  async get(): Promise<ClusterConnection> {
    if (this.connection !== undefined) return this.connection;
    try {
      this.connection = await connectToCluster(this.authServer, this.onboarding, this.options);
    } catch (error) {
      throw new BotRunError('connecting to the auth service', error);
    }
    const fields = {
      auth_server: this.authServer,
      cluster: this.connection.ping.cluster_name,
      ca_pin: this.connection.pin,
    };
    const announced = JSON.stringify(fields);
    if (announced === this.announced) {
      this.logger.debug('Reconnected to the auth service', fields);
    } else {
      this.logger.info('Connected to the auth service', fields);
      this.announced = announced;
    }
    return this.connection;
  }

  close(): void {
    this.connection?.client.close();
    this.connection = undefined;
  }
}
