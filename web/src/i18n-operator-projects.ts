/**
 * Messages of the operator area's Projects tab (every project with its owners, usage and quotas, and the
 * quota editor), in English and French; merged into i18n-resources.ts.
 */
export const enOperatorProjects = {
  operatorProjectsTab: 'Projects',
  operatorProjectsHelp:
    'Every project, oldest first, with its owners and what it uses of its quotas. A quota below the usage takes nothing away: new resources are refused until the usage is under it.',
  projectNameContains: 'Name contains',
  applyFilter: 'Filter',
  projectOwners: 'Owners',
  projectMembers: 'Members',
  usageServers: 'Servers',
  usageVcpus: 'vCPUs',
  usageGpus: 'GPUs',
  usageOf: '{used} of {quota}',
  editQuotas: 'Edit quotas',
  editQuotasOf: 'Edit the quotas of {name}',
  quotasOf: 'Quotas of {name}',
  quota_servers: 'Servers',
  quota_vcpus: 'vCPUs',
  quota_gpus: 'GPUs',
  quota_volumes: 'Volumes',
  quota_volume_gib: 'Volume storage (GiB)',
  quota_custom_images: 'Custom images',
  quotaUsedNow: 'in use now: {n}',
  saveQuotas: 'Save the quotas',
  quotasSaved: 'The quotas of {name} were saved.',
  quotasUnchanged: 'Nothing to save: no quota changed.',
  morePages: 'Showing the first {n} projects: narrow the name to find others.',
};

export const frOperatorProjects: typeof enOperatorProjects = {
  operatorProjectsTab: 'Projets',
  operatorProjectsHelp:
    'Tous les projets, du plus ancien au plus récent, avec leurs propriétaires et ce qu’ils utilisent de leurs quotas. Un quota sous l’usage ne retire rien : les nouvelles ressources sont refusées tant que l’usage le dépasse.',
  projectNameContains: 'Le nom contient',
  applyFilter: 'Filtrer',
  projectOwners: 'Propriétaires',
  projectMembers: 'Membres',
  usageServers: 'Serveurs',
  usageVcpus: 'vCPU',
  usageGpus: 'GPU',
  usageOf: '{used} sur {quota}',
  editQuotas: 'Modifier les quotas',
  editQuotasOf: 'Modifier les quotas de {name}',
  quotasOf: 'Quotas de {name}',
  quota_servers: 'Serveurs',
  quota_vcpus: 'vCPU',
  quota_gpus: 'GPU',
  quota_volumes: 'Volumes',
  quota_volume_gib: 'Stockage des volumes (Gio)',
  quota_custom_images: 'Images personnalisées',
  quotaUsedNow: 'utilisés : {n}',
  saveQuotas: 'Enregistrer les quotas',
  quotasSaved: 'Les quotas de {name} ont été enregistrés.',
  quotasUnchanged: 'Rien à enregistrer : aucun quota n’a changé.',
  morePages: 'Les {n} premiers projets sont affichés : précisez le nom pour trouver les autres.',
};
