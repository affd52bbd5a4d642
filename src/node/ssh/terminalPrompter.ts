/**
 * The command line's Prompter: host keys are accepted only when the user passed --accept-new-host-key, and
 * secrets are read from the terminal without echo. Without a terminal on stdin nothing is asked, so password,
 * passphrase and keyboard-interactive authentication are skipped rather than hanging a script.
 */

import type { KeyboardInteractiveQuestion, Prompter } from './prompter';

export interface TerminalPrompterOptions {
  readonly acceptNewHostKey: boolean;
  readonly input?: NodeJS.ReadStream;
  readonly output?: NodeJS.WritableStream;
}

export function createTerminalPrompter(options: TerminalPrompterOptions): Prompter {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stderr;
  const prompter: Prompter = {
    confirmNewHostKey: async () => options.acceptNewHostKey,
  };
  if (!input.isTTY) return prompter;
  const ask = (prompt: string, echo: boolean): Promise<string | undefined> => readFromTerminal(input, output, prompt, echo);
  return {
    ...prompter,
    askPassphrase: (keyFile, attempt) => ask(`${attempt > 1 ? 'Wrong passphrase. ' : ''}Passphrase for ${keyFile}: `, false),
    askPassword: (user, host, attempt) => ask(`${attempt > 1 ? 'Permission denied, try again. ' : ''}${user}@${host}'s password: `, false),
    async askKeyboardInteractive(question: KeyboardInteractiveQuestion) {
      if (question.instructions) output.write(`${question.instructions}\n`);
      const answers: string[] = [];
      for (const { prompt, echo } of question.prompts) {
        const answer = await ask(prompt, echo);
        if (answer === undefined) return undefined;
        answers.push(answer);
      }
      return answers;
    },
  };
}

/** Reads one line in raw mode; Ctrl-C or Ctrl-D on an empty line give undefined. */
function readFromTerminal(
  input: NodeJS.ReadStream,
  output: NodeJS.WritableStream,
  prompt: string,
  echo: boolean,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    output.write(prompt);
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.resume();
    let value = '';
    const done = (result: string | undefined): void => {
      input.removeListener('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      resolve(result);
    };
    const onData = (chunk: string): void => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n') return done(value);
        if (character === '\u0003' || (character === '\u0004' && value === '')) return done(undefined);
        if (character === '\u007f' || character === '\b') {
          value = value.slice(0, -1);
          continue;
        }
        value += character;
        if (echo) output.write(character);
      }
    };
    input.on('data', onData);
  });
}
