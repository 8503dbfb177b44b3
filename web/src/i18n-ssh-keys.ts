/** Messages of the SSH keys page and of the wizard's saved keys, in English and French; merged into i18n-resources.ts. */
export const enSshKeys = {
  savedSshKeys: 'SSH keys',
  sshKeysIntro:
    'Public keys saved in the project: pick them when creating a server. A server keeps the keys it was created with, even if a key is deleted later.',
  fingerprint: 'Fingerprint',
  keyType: 'Type',
  addSshKey: 'Add an SSH key',
  sshKeyName: 'Name',
  sshKeyNameHelp: 'Letters, digits, dots, dashes, underscores and @; no spaces (e.g. laptop or me@work).',
  publicKey: 'Public key',
  publicKeyHelp:
    'Paste one line of your .pub file (ssh-ed25519, ecdsa-sha2-nistp256/384/521, or ssh-rsa of 2048 bits or more). Never the private key.',
  deleteSshKey: 'Delete the SSH key',
  confirmDeleteSshKey: 'Delete the SSH key {name}? Servers created with it keep it.',
  sshKeyAdded: 'Saved {name} ({fingerprint}).',
  sshKeysViewerNote: 'Viewers see the keys; owners and members add and delete them.',
  noSshKeys: 'No SSH key saved yet.',
  savedKeysPick: 'Saved SSH keys',
  savedKeysNone: 'No saved key in this project (add some on the SSH keys page).',
  inlineSshKeys: 'Other public keys (one per line)',
  reviewSshKeys: 'SSH keys',
  reviewNoSshKeys: 'none',
  reason_invalid_public_key: 'This is not an OpenSSH public key of an accepted type.',
  reason_weak_key: 'This RSA key is too short: use 2048 bits or more, or better ssh-ed25519.',
  reason_key_exists: 'This key is saved already in the project, under another name.',
};

export const frSshKeys: typeof enSshKeys = {
  savedSshKeys: 'Clés SSH',
  sshKeysIntro:
    'Les clés publiques enregistrées dans le projet : choisissez-les à la création d’un serveur. Un serveur garde les clés reçues à sa création, même si une clé est supprimée ensuite.',
  fingerprint: 'Empreinte',
  keyType: 'Type',
  addSshKey: 'Ajouter une clé SSH',
  sshKeyName: 'Nom',
  sshKeyNameHelp: 'Lettres, chiffres, points, tirets, soulignés et @ ; pas d’espace (par ex. portable ou moi@travail).',
  publicKey: 'Clé publique',
  publicKeyHelp:
    'Collez une ligne de votre fichier .pub (ssh-ed25519, ecdsa-sha2-nistp256/384/521, ou ssh-rsa de 2048 bits ou plus). Jamais la clé privée.',
  deleteSshKey: 'Supprimer la clé SSH',
  confirmDeleteSshKey: 'Supprimer la clé SSH {name} ? Les serveurs créés avec elle la gardent.',
  sshKeyAdded: '{name} enregistrée ({fingerprint}).',
  sshKeysViewerNote: 'Les lecteurs voient les clés ; propriétaires et membres les ajoutent et les suppriment.',
  noSshKeys: 'Aucune clé SSH enregistrée pour l’instant.',
  savedKeysPick: 'Clés SSH enregistrées',
  savedKeysNone: 'Aucune clé enregistrée dans ce projet (ajoutez-en sur la page Clés SSH).',
  inlineSshKeys: 'Autres clés publiques (une par ligne)',
  reviewSshKeys: 'Clés SSH',
  reviewNoSshKeys: 'aucune',
  reason_invalid_public_key: 'Ce n’est pas une clé publique OpenSSH d’un type accepté.',
  reason_weak_key: 'Cette clé RSA est trop courte : utilisez 2048 bits ou plus, ou mieux ssh-ed25519.',
  reason_key_exists: 'Cette clé est déjà enregistrée dans le projet, sous un autre nom.',
};
