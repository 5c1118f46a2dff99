// Verify a BitstringStatusListCredential with the Digital Bazaar stack and decode its list
// with @digitalbazaar/vc-bitstring-status-list.
//
//   node verify_status_list.mjs CONTEXTS_MANIFEST < list-credential.json
//
// Prints the verification result and every set index; exit 0 verified, 1 not, 2 usage.
import {verifyCredential} from '@digitalbazaar/vc';
import {decodeList} from '@digitalbazaar/vc-bitstring-status-list';

import {answer, errorText, loadPinnedContexts, offlineLoader, readStdin, suite, usage}
  from './oracle.mjs';

const [manifestPath] = process.argv.slice(2);
if(!manifestPath) {
  usage('usage: node verify_status_list.mjs CONTEXTS_MANIFEST < list-credential.json');
}
const documentLoader = offlineLoader(await loadPinnedContexts(manifestPath));

let credential;
try {
  credential = JSON.parse(await readStdin());
} catch(error) {
  usage(`stdin is not JSON: ${error.message}`);
}

const result = await verifyCredential({credential, suite: suite(), documentLoader});
const proofErrors = (result.results ?? []).map(r => r.error).filter(Boolean);
const subject = credential.credentialSubject ?? {};
let decoded = null;
let decodeError = null;
try {
  const list = await decodeList({encodedList: subject.encodedList});
  const set = [];
  for(let i = 0; i < list.length; i++) {
    if(list.getStatus(i)) {
      set.push(i);
    }
  }
  decoded = {length: list.length, set};
} catch(error) {
  decodeError = error.message;
}
answer({
  verified: result.verified === true && decoded !== null,
  error: errorText(result.error) ?? errorText(proofErrors) ?? decodeError,
  statusPurpose: subject.statusPurpose ?? null,
  list: decoded,
});
