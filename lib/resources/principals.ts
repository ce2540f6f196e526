import * as z from 'zod';
import { builtOnFirstUse } from '../core/built-on-first-use.js';
import { describeCharacter, findUnsafeCharacter } from './text.js';
import { looksLikeTraitTemplate, parseTraitTemplate, TRAIT_TEMPLATE_RULE } from './traits.js';

const POSIX_LOGIN = /^[a-z_][a-z0-9_-]*[$]?$/;
const MAX_LOGIN = 32;
// 64: the X.520 upper bound of CN and O, where Kubernetes users and groups end up.
const MAX_KUBERNETES_SUBJECT = 64;

/** The rule for SSH logins, as error messages state it. */
export const LOGIN_RULE = `a login is a POSIX user name: lowercase letters, digits, "_" and "-", starting with a letter or "_", at most ${MAX_LOGIN} characters (e.g. root, ubuntu, ci_deploy)`;

/** The rule for Kubernetes users and groups, as error messages state it. */
export const KUBERNETES_SUBJECT_RULE = `a Kubernetes user or group is 1 to ${MAX_KUBERNETES_SUBJECT} visible characters without , + = \\ " < > ; and without spaces at either end (e.g. system:masters, alice@example.com)`;

/** Characters with a meaning in distinguished names (RFC 4514); the subject lands in a certificate's CN or O. */
const DN_SPECIAL = /[,+=\\"<>;]/;

/** Whether `value` can be an SSH certificate principal for a login. */
export function isPosixLogin(value: string): boolean {
  return value.length <= MAX_LOGIN && POSIX_LOGIN.test(value);
}

function loginProblem(value: string): string | undefined {
  if (value.length === 0) return `the login is empty; ${LOGIN_RULE}`;
  if (value.length > MAX_LOGIN) return `the login is ${value.length} characters long; ${LOGIN_RULE}`;
  if (POSIX_LOGIN.test(value)) return undefined;
  if (/[A-Z]/.test(value)) return `upper-case letters are not allowed; ${LOGIN_RULE}`;
  for (const [index, character] of [...value].entries()) {
    const last = index === value.length - 1;
    const allowed = index === 0 ? /[a-z_]/ : last ? /[a-z0-9_$-]/ : /[a-z0-9_-]/;
    if (!allowed.test(character)) {
      return index === 0 && /[a-z0-9_$-]/.test(character)
        ? `a login cannot start with ${JSON.stringify(character)}; ${LOGIN_RULE}`
        : `${describeCharacter(character)} is not allowed in a login; ${LOGIN_RULE}`;
    }
  }
  return LOGIN_RULE;
}

/** What is wrong with a Kubernetes user or group name, or undefined when it is fine. */
export function kubernetesSubjectProblem(value: string): string | undefined {
  if (value.length === 0) return `the name is empty; ${KUBERNETES_SUBJECT_RULE}`;
  if (value.length > MAX_KUBERNETES_SUBJECT) {
    return `the name is ${value.length} characters long; ${KUBERNETES_SUBJECT_RULE}`;
  }
  const unsafe = findUnsafeCharacter(value);
  if (unsafe !== undefined) return `${describeCharacter(unsafe)} is not allowed; ${KUBERNETES_SUBJECT_RULE}`;
  const special = DN_SPECIAL.exec(value)?.[0];
  if (special !== undefined)
    return `${describeCharacter(special)} is not allowed; ${KUBERNETES_SUBJECT_RULE}`;
  if (value.trim() !== value) return `spaces at either end are not allowed; ${KUBERNETES_SUBJECT_RULE}`;
  return undefined;
}

/** Whether `value` can be a Kubernetes user (certificate CN) or group (certificate O). */
export function isKubernetesSubject(value: string): boolean {
  return kubernetesSubjectProblem(value) === undefined;
}

function templateOr(problemOf: (value: string) => string | undefined) {
  return (value: string): string | undefined => {
    if (!looksLikeTraitTemplate(value)) return problemOf(value);
    return parseTraitTemplate(value) === undefined
      ? `not a valid trait template; ${TRAIT_TEMPLATE_RULE}`
      : undefined;
  };
}

function principalSchema(problemOf: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const problem = problemOf(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: value });
  });
}

/** An SSH login in a role: a POSIX user name or a trait template such as `{{internal.logins}}`. */
export const loginSchema = builtOnFirstUse(() => principalSchema(templateOr(loginProblem)));

/** A login in a role's `deny`, where `*` (every login) is also meaningful. */
export const deniedLoginSchema = builtOnFirstUse(() =>
  principalSchema(templateOr((value) => (value === '*' ? undefined : loginProblem(value)))),
);

/** A Kubernetes user or group in a role: a name (see {@link KUBERNETES_SUBJECT_RULE}) or a trait template. */
export const kubernetesSubjectSchema = builtOnFirstUse(() =>
  principalSchema(templateOr(kubernetesSubjectProblem)),
);

/** What is wrong with a trait value in its own right, whatever field it is later used in. */
export const traitValueProblem = kubernetesSubjectProblem;
