/**
 * The one import of @peculiar/x509 (CSRs, certificates), after the reflect-metadata polyfill it needs.
 * It signs and verifies with the platform's WebCrypto (globalThis.crypto in Node).
 */
import 'reflect-metadata';
export * as x509 from '@peculiar/x509';
