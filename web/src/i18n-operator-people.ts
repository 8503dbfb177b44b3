/**
 * Messages of the operator area's People tab (the users linked as operators, and resetting another
 * person's second factor), in English and French; merged into i18n-resources.ts.
 */
export const enOperatorPeople = {
  operatorPeopleTab: 'People',
  operatorPeopleHelp:
    'The users linked as operators (vmcloud operator-user link). Someone who lost their authentication device and has no recovery code left gets back in through a reset of their two-factor authentication: you pass on the one-time link it gives. Your own is reset by another operator.',
  twoFactorColumn: 'Two-factor',
  twoFactorOn: 'on',
  twoFactorOff: 'off (cannot open the operator area yet)',
  resetTwoFactor: 'Reset two-factor',
  resetTwoFactorOf: 'Reset the two-factor authentication of {email}',
  confirmResetTwoFactor:
    'Reset the two-factor authentication of {email}? Their authentication app stops working, their recovery codes and passkeys are deleted and every session of theirs (projects and operator area) ends at once. You get a one-time link, valid 24 hours, with which they choose a new password and set up two-factor authentication again. Do this only once you are sure the request comes from them.',
  twoFactorReset: 'The two-factor authentication of {email} was reset; passkeys deleted: {p}; sessions ended: {n}.',
  totpResetLinkOnce:
    'The one-time link for {email}, shown only now: pass it on to them directly (not by the e-mail address of the account if it may be compromised). It works once, until {expires}.',
  reason_own_account: 'This is your own account: another operator resets your two-factor authentication.',
};

export const frOperatorPeople: typeof enOperatorPeople = {
  operatorPeopleTab: 'Personnes',
  operatorPeopleHelp:
    'Les utilisateurs liés comme opérateurs (vmcloud operator-user link). Une personne qui a perdu son appareil d’authentification et n’a plus de code de secours revient par une réinitialisation de son authentification à deux facteurs : vous lui transmettez le lien à usage unique qu’elle donne. La vôtre est réinitialisée par un autre opérateur.',
  twoFactorColumn: 'Deux facteurs',
  twoFactorOn: 'activée',
  twoFactorOff: 'désactivée (ne peut pas encore ouvrir l’espace opérateur)',
  resetTwoFactor: 'Réinitialiser les deux facteurs',
  resetTwoFactorOf: 'Réinitialiser l’authentification à deux facteurs de {email}',
  confirmResetTwoFactor:
    'Réinitialiser l’authentification à deux facteurs de {email} ? Son application d’authentification cesse de fonctionner, ses codes de secours et ses clés d’accès sont supprimés et toutes ses sessions (projets et espace opérateur) se terminent aussitôt. Vous obtenez un lien à usage unique, valable 24 heures, avec lequel la personne choisit un nouveau mot de passe et active de nouveau l’authentification à deux facteurs. Ne le faites qu’une fois sûr que la demande vient bien d’elle.',
  twoFactorReset:
    'L’authentification à deux facteurs de {email} a été réinitialisée ; clés d’accès supprimées : {p} ; sessions terminées : {n}.',
  totpResetLinkOnce:
    'Le lien à usage unique pour {email}, affiché seulement maintenant : transmettez-le directement à la personne (pas par l’adresse e-mail du compte si elle peut être compromise). Il fonctionne une fois, jusqu’au {expires}.',
  reason_own_account:
    'C’est votre propre compte : un autre opérateur réinitialise votre authentification à deux facteurs.',
};
