/**
 * Messages of the operator area's SLA credits and sessions tabs, and of the operator's one-time link (set a
 * password, turn TOTP on, open the operator area), in English and French; merged into i18n-resources.ts.
 */
export const enOperator = {
  slaCreditsTab: 'SLA credits',
  slaCreditsHelp:
    'Every server whose availability fell below its tier’s target in the month, across all projects, and the credit it earns (before VAT). Accruing: the month is running and the credit can still grow; to invoice: the month is over, its invoice not made yet.',
  creditCustomer: 'Customer',
  creditDowntime: 'Downtime',
  creditAvailability: 'Availability',
  creditAmount: 'Credit',
  creditsTotal: 'Total of the month: {amount} (servers: {n}).',
  noSlaCredits: 'No SLA credit this month.',
  minutesShort: '{n} min',
  creditStatus_accruing: 'accruing',
  creditStatus_pending: 'to invoice',
  creditStatus_invoiced: 'invoiced',
  creditStatus_voided: 'invoice voided',
  noBillingDetails: 'no billing details',
  showMonth: 'Show',
  operatorSessionsTab: 'Sessions',
  operatorSessionsHelp: 'Your operator sessions (the operator area), not those of your projects (Account page).',
  secondFactor: 'Second factor',
  revokeOperatorSession: 'Revoke the operator session',
  confirmRevokeOperatorSession:
    'Revoke the operator session opened {created} from {from}? Whoever uses it is signed out of the operator area at once.',
  operatorSessionRevoked: 'The session was revoked.',
  // a one-time link of an operator of no project
  reason_no_project: 'This account belongs to no project.',
  reason_totp_invalid: 'The authentication code does not match: check the device’s clock and type the current code.',
  reason_link_invalid: 'This link is unknown, expired or used already: ask an operator for a new one.',
  operatorLinkIntro:
    'This account is an operator’s and belongs to no project: it signs in to the operator area, which needs two-factor authentication. Add the key below to your authenticator app, then type its code.',
  operatorLinkTotpOn:
    'This account is an operator’s and belongs to no project: type the code of your authenticator app to open the operator area.',
  openOperatorArea: 'Open the operator area',
  operatorLinkDone:
    'Your password is set, two-factor authentication is on, and you are signed in to the operator area.',
  signInNoProjectOperator: 'Operators of no project sign in to the operator area:',
};

export const frOperator: typeof enOperator = {
  slaCreditsTab: 'Avoirs SLA',
  slaCreditsHelp:
    'Chaque serveur dont la disponibilité du mois est passée sous l’objectif de son niveau, dans tous les projets, et l’avoir qu’il ouvre (hors TVA). En cours : le mois n’est pas fini et l’avoir peut encore grandir ; à facturer : le mois est fini, sa facture pas encore faite.',
  creditCustomer: 'Client',
  creditDowntime: 'Indisponibilité',
  creditAvailability: 'Disponibilité',
  creditAmount: 'Avoir',
  creditsTotal: 'Total du mois : {amount} (serveurs : {n}).',
  noSlaCredits: 'Aucun avoir SLA ce mois-ci.',
  minutesShort: '{n} min',
  creditStatus_accruing: 'en cours',
  creditStatus_pending: 'à facturer',
  creditStatus_invoiced: 'facturé',
  creditStatus_voided: 'facture annulée',
  noBillingDetails: 'pas de coordonnées de facturation',
  showMonth: 'Afficher',
  operatorSessionsTab: 'Sessions',
  operatorSessionsHelp: 'Vos sessions opérateur (l’espace opérateur), pas celles de vos projets (page Compte).',
  secondFactor: 'Second facteur',
  revokeOperatorSession: 'Révoquer la session opérateur',
  confirmRevokeOperatorSession:
    'Révoquer la session opérateur ouverte le {created} depuis {from} ? Qui l’utilise est aussitôt déconnecté de l’espace opérateur.',
  operatorSessionRevoked: 'La session a été révoquée.',
  reason_no_project: 'Ce compte n’appartient à aucun projet.',
  reason_totp_invalid:
    'Le code d’authentification ne correspond pas : vérifiez l’heure de l’appareil et tapez le code actuel.',
  reason_link_invalid: 'Ce lien est inconnu, expiré ou déjà utilisé : demandez-en un nouveau à un opérateur.',
  operatorLinkIntro:
    'Ce compte est celui d’un opérateur et n’appartient à aucun projet : il se connecte à l’espace opérateur, qui exige l’authentification à deux facteurs. Ajoutez la clé ci-dessous à votre application d’authentification, puis tapez son code.',
  operatorLinkTotpOn:
    'Ce compte est celui d’un opérateur et n’appartient à aucun projet : tapez le code de votre application d’authentification pour ouvrir l’espace opérateur.',
  openOperatorArea: 'Ouvrir l’espace opérateur',
  operatorLinkDone:
    'Votre mot de passe est choisi, l’authentification à deux facteurs est activée et vous êtes connecté à l’espace opérateur.',
  signInNoProjectOperator: 'Les opérateurs sans projet se connectent à l’espace opérateur :',
};
