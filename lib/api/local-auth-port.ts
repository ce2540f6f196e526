/**
 * The port `midctl auth start` listens on unless `--listen` says otherwise. The agent names it when an
 * address without a port (443, the https default) finds nothing listening: the usual slip locally.
 */
export const LOCAL_AUTH_PORT = 3025;
