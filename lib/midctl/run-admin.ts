import type { AdminApi } from './admin-api.js';

/**
 * Runs one admin command's work and prints what it returns: midctl's own `run`, handed to the files
 * that add groups of commands, so that each command connects, explains refusals and closes alike.
 */
export type RunAdmin = (work: (admin: AdminApi) => Promise<string>) => Promise<void>;
