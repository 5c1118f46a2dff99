// Verify a Data Integrity (eddsa-rdfc-2022) credential with the Digital Bazaar stack.
//
//   node verify_di.mjs CONTEXTS_MANIFEST [STATUS_LISTS_JSON] < credential.json
//
// STATUS_LISTS_JSON maps list URLs to list credentials; with it the credential's status is
// checked by @digitalbazaar/vc-bitstring-status-list (each list verified too), without it
// the status is reported as not checked. Prints a JSON result; exit 0 verified, 1 not, 2 usage.
import {readFile} from 'node:fs/promises';

import {verifyCredential} from '@digitalbazaar/vc';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

import {answer, errorText, loadPinnedContexts, offlineLoader, readStdin, suite, usage}
  from './oracle.mjs';

const [manifestPath, statusListsPath] = process.argv.slice(2);
if(!manifestPath) {
  usage('usage: node verify_di.mjs CONTEXTS_MANIFEST [STATUS_LISTS_JSON] < credential.json');
}
const contexts = await loadPinnedContexts(manifestPath);
const statusLists = statusListsPath ?
  new Map(Object.entries(JSON.parse(await readFile(statusListsPath, 'utf8')))) : null;
const documentLoader = offlineLoader(contexts, statusLists ?? new Map());

let credential;
try {
  credential = JSON.parse(await readStdin());
} catch(error) {
  usage(`stdin is not JSON: ${error.message}`);
}

const notChecked = async () => ({verified: true, checked: false});
const result = await verifyCredential({
  credential,
  suite: suite(),
  documentLoader,
  checkStatus: statusLists ? checkStatus : notChecked,
});
const proofErrors = (result.results ?? []).map(r => r.error).filter(Boolean);
answer({
  verified: result.verified === true,
  error: errorText(result.error) ?? errorText(proofErrors),
  proofs: (result.results ?? []).map(r => ({
    verified: r.verified,
    verificationMethod: r.proof?.verificationMethod,
    error: errorText(r.error),
  })),
  status: result.statusResult ? {
    checked: result.statusResult.checked !== false,
    verified: result.statusResult.verified,
    error: errorText(result.statusResult.error),
    entries: (result.statusResult.results ?? []).map(r => ({
      purpose: r.credentialStatus.statusPurpose,
      index: r.credentialStatus.statusListIndex,
      set: r.status,
    })),
  } : null,
});
