/** Project roles, weakest first. A viewer reads; a member runs servers; an owner also manages tokens. */
export const projectRoles = ['viewer', 'member', 'owner'] as const;
export type ProjectRole = (typeof projectRoles)[number];

export function isProjectRole(value: string): value is ProjectRole {
  return (projectRoles as readonly string[]).includes(value);
}

/** True when `role` is at least `required`. */
export function roleAllows(role: ProjectRole, required: ProjectRole): boolean {
  return projectRoles.indexOf(role) >= projectRoles.indexOf(required);
}

export type Principal =
  | { kind: 'project'; tokenId: string; userId: string | null; projectId: string; role: ProjectRole }
  | { kind: 'operator'; tokenId: string; userId: string | null }
  | { kind: 'host'; tokenId: string; hostId: string | null };
