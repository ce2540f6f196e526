import type { SigV4Credentials } from './sigv4-verifier.js';

/**
 * The static credentials the emulators accept by default. Pass them to the real SDK clients
 * (`credentials: AWS_TEST_CREDENTIALS`) so the emulators can verify each request's signature.
 * They are test values, valid nowhere else. Not frozen: the SDK tags the credential object it is given
 * (`$source`), so pass a copy (`{ ...AWS_TEST_CREDENTIALS }`) to keep this one clean.
 */
export const AWS_TEST_CREDENTIALS: Readonly<SigV4Credentials> = {
  accessKeyId: 'AKIAEMULATORTEST0001',
  secretAccessKey: 'emulator/test/secret/key/valid/only/on/loopback',
};

/** The account and region the emulators report by default. */
export const AWS_TEST_ACCOUNT_ID = '123456789012';
export const AWS_TEST_REGION = 'us-east-1';
