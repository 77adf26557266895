import { GateDefinition } from "./definition";

const FLAGS = {
  manual: {
    type: "boolean",
    default: false,
    describe: "Ask a person before each next step (prompt on a terminal, pause otherwise)",
  },
} as const;

/**
 * A person's go/no-go before each next step, once the automated gates passed ("manual approval"
 * in the plan). Nothing to build: the release engine reads `gates.manual` and asks its approver
 * (a prompt on a terminal, a pause otherwise).
 */
export const manualDefinition: GateDefinition<"manual", typeof FLAGS, boolean> = {
  name: "manual",
  flags: FLAGS,
  settings: (values) => values.manual ?? FLAGS.manual.default,
};
