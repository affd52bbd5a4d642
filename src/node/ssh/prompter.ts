/**
 * What the SSH connection asks of whoever started it: consent for an unknown host key, and secrets when the
 * caller can prompt. The CLI and the extension implement this differently (flags and a terminal, or input
 * boxes); a method left out means "cannot ask", and that authentication method is skipped.
 */

export interface HostKeyQuestion {
  /** The name checked in known_hosts and the port, e.g. `10.0.0.5` and 22. */
  readonly host: string;
  readonly port: number;
  readonly keyType: string;
  /** `SHA256:…` as OpenSSH prints it. */
  readonly fingerprint: string;
  /** The known_hosts file the key is added to if the user accepts. */
  readonly knownHostsFile: string;
  /** Key types already listed for this host (the server offered a different one). */
  readonly otherKnownKeyTypes: readonly string[];
}

export interface KeyboardInteractiveQuestion {
  readonly host: string;
  readonly name: string;
  readonly instructions: string;
  readonly prompts: readonly { readonly prompt: string; readonly echo: boolean }[];
}

export interface Prompter {
  /** True to trust the key and append it to known_hosts; false refuses the connection. */
  confirmNewHostKey(question: HostKeyQuestion): Promise<boolean>;
  /** The passphrase of an encrypted identity file; undefined skips the key. Never logged. */
  askPassphrase?(keyFile: string, attempt: number): Promise<string | undefined>;
  /** A password for `user@host`; undefined skips password authentication. Never logged. */
  askPassword?(user: string, host: string, attempt: number): Promise<string | undefined>;
  /** Answers to a keyboard-interactive round, one per prompt; undefined gives up on the method. */
  askKeyboardInteractive?(question: KeyboardInteractiveQuestion): Promise<string[] | undefined>;
}
