import type { OutputCertificatesResponse, OutputKind } from '../../api/output-certificates.js';
import { UpstreamError } from '../../core/errors.js';

/** Checks that the auth service answered for the output being rendered. */
export function checkResponseKind(response: OutputCertificatesResponse, kind: OutputKind): void {
  if (response.output !== kind) {
    throw new UpstreamError(
      'output_mismatch',
      `asked for a ${kind} output but the auth service answered for a ${response.output} output`,
    );
  }
}

/** A field the output needs; its absence is the auth service's fault, not the user's. */
export function requirePart<T>(value: T | undefined, what: string, kind: OutputKind): T {
  if (value === undefined) {
    throw new UpstreamError(
      'incomplete_output_response',
      `the auth service's answer for a ${kind} output has no ${what}; check that the auth service and midbot versions match`,
    );
  }
  return value;
}

/** Distinct PEMs, in order (a CA listed twice during a rotation is written once). */
export function distinct(values: readonly string[]): string[] {
  return [...new Set(values.map((value) => value.trim()))].map((value) => `${value}\n`);
}
