/**
 * The additional authenticated data of a sealed secret: it binds a ciphertext to its row id and purpose,
 * so a ciphertext copied into another row, or a row relabelled for another purpose, no longer decrypts.
 */
export function sealedSecretAad(id: string, purpose: string): Buffer {
  return Buffer.from(`vmcloud.sealed-secret.v1\0${id}\0${purpose}`, 'utf8');
}
