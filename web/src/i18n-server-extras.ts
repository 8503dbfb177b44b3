/**
 * Messages of the server page's protection flags, ISO boot and disk export, and of the webhook edit form,
 * in English and French; merged into the resources of i18n-resources.ts.
 */
export const enExtras = {
  // protection flags
  protection: 'Protection',
  protectionHelp: 'While a protection is on, the API refuses that action (409 protected) until it is turned off.',
  deleteProtection: 'Delete protection',
  rebuildProtection: 'Rebuild protection',
  on: 'on',
  off: 'off',
  protectionSaved: '{what}: {state}.',
  deleteProtectedNote: 'Delete protection is on: deleting this server is refused until it is turned off.',
  rebuildProtectedNote: 'Rebuild protection is on: rebuilding this server is refused until it is turned off.',
  // ISO boot
  isoTitle: 'ISO boot (rescue or install)',
  isoHelp: 'Attach an ISO image: the server boots from it instead of its disk until the ISO is detached.',
  attachedIso: 'Attached ISO',
  noIso: 'none (the server boots its disk)',
  isoToAttach: 'ISO image',
  noIsoImages: 'No ISO image in the catalog yet (operators upload them: PUT /v1/images/{slug}).',
  attachIso: 'Attach the ISO',
  detachIso: 'Detach the ISO',
  confirmAttachIsoRunning: 'Attach {iso} to {name}? The server restarts now and boots from the ISO.',
  confirmAttachIsoStopped: 'Attach {iso} to {name}? The server boots from the ISO at its next start.',
  confirmDetachIsoRunning: 'Detach {iso} from {name}? The server restarts now and boots its disk.',
  confirmDetachIsoStopped: 'Detach {iso} from {name}? The server boots its disk at its next start.',
  reason_not_an_iso: 'This image is not an ISO image.',
  reason_image_not_available: 'This image is not available.',
  // disk export
  diskExport: 'Disk export',
  diskExportHelp:
    'A standalone image of the disk (its base image included), downloaded with your session. From a running server the copy is crash-consistent: stop it first for a clean copy.',
  exportFormat: 'Format',
  exportEncrypted: 'Keep it encrypted (qcow2 with a fresh key, shown once)',
  startExport: 'Export the disk',
  exporting: 'Exporting: {done} received',
  exportingOf: 'Exporting: {done} of {total}',
  exportReady: 'The export is ready ({size}).',
  saveExport: 'Save {file}',
  exportKeyOnce:
    'The key of this encrypted export (LUKS passphrase), shown once and stored nowhere: keep it now, the file cannot be opened without it.',
  exportInMemory:
    'The page holds the file until you save it. For a large disk, the direct link saves it as it arrives (not encrypted), or use vmcloud server export.',
  directDownload: 'Direct download ({format}, not encrypted)',
  // webhook edit
  editWebhook: 'Edit the webhook',
  webhookUpdated: 'Webhook updated.',
  reason_webhook_url_refused: 'This URL is refused (https only, and no private or local address).',
};

export const frExtras: typeof enExtras = {
  protection: 'Protection',
  protectionHelp:
    'Tant qu’une protection est active, l’API refuse cette action (409 protected) jusqu’à ce qu’elle soit désactivée.',
  deleteProtection: 'Protection contre la suppression',
  rebuildProtection: 'Protection contre la réinstallation',
  on: 'activée',
  off: 'désactivée',
  protectionSaved: '{what} : {state}.',
  deleteProtectedNote:
    'La protection contre la suppression est active : supprimer ce serveur est refusé tant qu’elle n’est pas désactivée.',
  rebuildProtectedNote:
    'La protection contre la réinstallation est active : réinstaller ce serveur est refusé tant qu’elle n’est pas désactivée.',
  isoTitle: 'Démarrage sur ISO (secours ou installation)',
  isoHelp: 'Attachez une image ISO : le serveur démarre dessus au lieu de son disque jusqu’à ce qu’elle soit détachée.',
  attachedIso: 'ISO attachée',
  noIso: 'aucune (le serveur démarre sur son disque)',
  isoToAttach: 'Image ISO',
  noIsoImages: 'Pas encore d’image ISO au catalogue (les opérateurs les envoient : PUT /v1/images/{slug}).',
  attachIso: 'Attacher l’ISO',
  detachIso: 'Détacher l’ISO',
  confirmAttachIsoRunning: 'Attacher {iso} à {name} ? Le serveur redémarre maintenant et démarre sur l’ISO.',
  confirmAttachIsoStopped: 'Attacher {iso} à {name} ? Le serveur démarrera sur l’ISO à son prochain démarrage.',
  confirmDetachIsoRunning: 'Détacher {iso} de {name} ? Le serveur redémarre maintenant et démarre sur son disque.',
  confirmDetachIsoStopped: 'Détacher {iso} de {name} ? Le serveur démarrera sur son disque à son prochain démarrage.',
  reason_not_an_iso: 'Cette image n’est pas une image ISO.',
  reason_image_not_available: 'Cette image n’est pas disponible.',
  diskExport: 'Export du disque',
  diskExportHelp:
    'Une image autonome du disque (image de base comprise), téléchargée avec votre session. Depuis un serveur en marche, la copie est cohérente comme après une coupure : arrêtez-le d’abord pour une copie propre.',
  exportFormat: 'Format',
  exportEncrypted: 'Le garder chiffré (qcow2 sous une clé neuve, montrée une fois)',
  startExport: 'Exporter le disque',
  exporting: 'Export en cours : {done} reçus',
  exportingOf: 'Export en cours : {done} sur {total}',
  exportReady: 'L’export est prêt ({size}).',
  saveExport: 'Enregistrer {file}',
  exportKeyOnce:
    'La clé de cet export chiffré (phrase de passe LUKS), montrée une seule fois et conservée nulle part : gardez-la maintenant, le fichier ne s’ouvre pas sans elle.',
  exportInMemory:
    'La page garde le fichier jusqu’à ce que vous l’enregistriez. Pour un gros disque, le lien direct l’enregistre au fil de l’arrivée (non chiffré), ou utilisez vmcloud server export.',
  directDownload: 'Téléchargement direct ({format}, non chiffré)',
  editWebhook: 'Modifier le webhook',
  webhookUpdated: 'Webhook modifié.',
  reason_webhook_url_refused: 'Cette URL est refusée (https seulement, et pas d’adresse privée ou locale).',
};
