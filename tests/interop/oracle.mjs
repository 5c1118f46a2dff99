// Shared parts of the Digital Bazaar verifier scripts: an offline document loader, the
// eddsa-rdfc-2022 suite, stdin and the JSON answer. Test oracles only, never run by the app.
import {readFile} from 'node:fs/promises';
import {dirname, join} from 'node:path';

import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const DID_V1 = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';

// Contexts come only from the project's pinned files (manifest: url, file, sha256).
export async function loadPinnedContexts(manifestPath) {
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  const contexts = new Map();
  for(const entry of manifest) {
    const text = await readFile(join(dirname(manifestPath), entry.file), 'utf8');
    contexts.set(entry.url, JSON.parse(text));
  }
  return contexts;
}

// A did:key DID document (and its one verification method), built by Digital Bazaar's
// own Multikey code so a malformed key fails here, not in our favour.
async function didKeyDocuments(url) {
  const [did, fragment] = url.split('#');
  const multibase = did.slice('did:key:'.length);
  if(fragment !== undefined && fragment !== multibase) {
    throw new Error(`did:key method ${url} does not name the DID's key`);
  }
  const id = `${did}#${multibase}`;
  const key = await Ed25519Multikey.from({id, controller: did, publicKeyMultibase: multibase});
  const method = await key.export({publicKey: true, includeContext: false});
  const document = {
    '@context': [DID_V1, MULTIKEY_V1],
    id: did,
    verificationMethod: [method],
    authentication: [id],
    assertionMethod: [id],
    capabilityDelegation: [id],
    capabilityInvocation: [id],
  };
  return fragment === undefined ? document : {'@context': MULTIKEY_V1, ...method};
}

// Serves pinned contexts, did:key documents and the given extra documents (by URL);
// anything else is an error, never a network fetch.
export function offlineLoader(contexts, extra = new Map()) {
  return async url => {
    if(contexts.has(url)) {
      return {contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url))};
    }
    if(extra.has(url)) {
      return {contextUrl: null, documentUrl: url, document: structuredClone(extra.get(url))};
    }
    if(url.startsWith('did:key:')) {
      return {contextUrl: null, documentUrl: url, document: await didKeyDocuments(url)};
    }
    throw new Error(`offline loader refuses ${url}: not a pinned context or a did:key`);
  };
}

export function didKeyFromMethod(url) {
  return didKeyDocuments(url);
}

export const suite = () => new DataIntegrityProof({cryptosuite: eddsaRdfc2022});

export async function readStdin() {
  let input = '';
  for await (const chunk of process.stdin) {
    input += chunk;
  }
  return input;
}

// Print the JSON answer; exit 0 when verified, 1 when not.
export function answer(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exitCode = result.verified ? 0 : 1;
}

export function errorText(error) {
  if(!error) {
    return null;
  }
  // jsonld-signatures wraps the causes in a "Verification error(s)." with `errors`.
  const flat = e => [e.message || String(e), ...(e.errors ?? []).map(flat)].join(': ');
  return (Array.isArray(error) ? error : [error]).map(flat).join('; ');
}

// Wrong usage or a broken oracle exits 2, so a test never mistakes it for "not verified".
export function usage(text) {
  process.stderr.write(text + '\n');
  process.exit(2);
}
