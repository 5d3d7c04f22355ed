//! Temporary passwords generated for the admin, so nobody has to invent one (Okta's reset and
//! Entra's resetPassword do the same).
//!
//! Drawn from the OS CSPRNG (ring's `SystemRandom`, already linked for TLS), one character of
//! each of Cognito's four classes plus uniform picks from all 94 printable ASCII characters
//! Cognito accepts (every class, whatever the policy, so the password also meets a policy
//! stricter than the one read), shuffled, with rejection sampling so no character is likelier
//! than another. Length is the pool's minimum or [`MIN_GENERATED_LENGTH`], whichever is larger:
//! 16 uniform characters from 94 carry about 105 bits. Every candidate is checked with the same
//! rules as an admin's password (`violations`, blocklist always on) and redrawn if it fails.

use ring::rand::{SecureRandom, SystemRandom};
use secrecy::zeroize::Zeroizing;
use secrecy::SecretString;

use super::blocklist::Blocklist;
use super::policy::{PasswordPolicy, COGNITO_SYMBOLS};

/// The shortest password generated, whatever the pool allows.
pub const MIN_GENERATED_LENGTH: u32 = 16;

/// Candidates drawn before giving up. A random 16-character candidate fails only if it
/// contains the username or is on the blocklist (it always has every class), so reaching this
/// means something is wrong with the randomness, not bad luck.
pub const MAX_ATTEMPTS: u32 = 16;

const UPPERCASE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWERCASE: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const NUMBERS: &[u8] = b"0123456789";
const SYMBOLS: &[u8] = COGNITO_SYMBOLS.as_bytes();
/// Every character a generated password may hold: Cognito's four classes, no space (a space is
/// easy to lose when the password is read out or pasted).
const ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-";

/// Why no password could be generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    #[error("the operating system's random number generator failed")]
    Random,
    #[error("no generated password met the policy in {MAX_ATTEMPTS} attempts")]
    Exhausted,
}

/// A password that meets `policy`, does not contain `username` and is not on the common-
/// password blocklist, from the OS CSPRNG.
pub fn generate(policy: &PasswordPolicy, username: &str) -> Result<SecretString, GenerateError> {
    generate_from(&SystemRandom::new(), policy, username)
}

/// Uniform random bytes. Our own trait because ring's `SecureRandom` is sealed and the tests
/// need a failing and a scripted source.
trait RandomSource {
    fn fill(&self, dest: &mut [u8]) -> Result<(), GenerateError>;
}

impl RandomSource for SystemRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), GenerateError> {
        SecureRandom::fill(self, dest).map_err(|_| GenerateError::Random)
    }
}

fn generate_from(
    source: &impl RandomSource,
    policy: &PasswordPolicy,
    username: &str,
) -> Result<SecretString, GenerateError> {
    let length = policy.minimum_length.max(MIN_GENERATED_LENGTH) as usize;
    let blocklist = Blocklist::common_passwords();
    let mut draws = Draws::new(source);
    for _ in 0..MAX_ATTEMPTS {
        let mut candidate = candidate(&mut draws, length)?;
        if policy.violations(&candidate, username, Some(blocklist)).is_empty() {
            return Ok(SecretString::from(std::mem::take(&mut *candidate)));
        }
    }
    Err(GenerateError::Exhausted)
}

/// One candidate of `length` (>= 4) characters: one of each class, the rest from the whole
/// alphabet, then a Fisher-Yates shuffle so the forced characters sit anywhere.
fn candidate(draws: &mut Draws<'_, impl RandomSource>, length: usize) -> Result<Zeroizing<String>, GenerateError> {
    let mut chars = Zeroizing::new(Vec::with_capacity(length));
    for class in [UPPERCASE, LOWERCASE, NUMBERS, SYMBOLS] {
        chars.push(class[draws.below(class.len())?]);
    }
    while chars.len() < length {
        chars.push(ALPHABET[draws.below(ALPHABET.len())?]);
    }
    for i in (1..chars.len()).rev() {
        let j = draws.below(i + 1)?;
        chars.swap(i, j);
    }
    // Pushed into a string of the final capacity, so no reallocation leaves a copy behind.
    let mut text = Zeroizing::new(String::with_capacity(length));
    text.extend(chars.iter().map(|&b| char::from(b)));
    Ok(text)
}

/// Buffered draws from a source, wiped on drop.
struct Draws<'a, S> {
    source: &'a S,
    buffer: Zeroizing<[u8; 64]>,
    used: usize,
}

impl<'a, S: RandomSource> Draws<'a, S> {
    fn new(source: &'a S) -> Self {
        Self {
            source,
            buffer: Zeroizing::new([0; 64]),
            used: 64,
        }
    }

    fn next_u32(&mut self) -> Result<u32, GenerateError> {
        if self.used + 4 > self.buffer.len() {
            self.source.fill(&mut self.buffer[..])?;
            self.used = 0;
        }
        let word = u32::from_le_bytes(self.buffer[self.used..self.used + 4].try_into().expect("4 bytes"));
        self.used += 4;
        Ok(word)
    }

    /// Uniform in `0..n` (n >= 1): draws below the largest multiple of `n` that fits in a u32
    /// are kept, the rest redrawn, so `% n` favours no value.
    fn below(&mut self, n: usize) -> Result<usize, GenerateError> {
        let n = u64::try_from(n).expect("usize fits u64");
        assert!((1..=u64::from(u32::MAX)).contains(&n), "range out of bounds");
        let zone = (1u64 << 32) / n * n;
        loop {
            let word = u64::from(self.next_u32()?);
            if word < zone {
                return Ok(usize::try_from(word % n).expect("below n"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use proptest::prelude::*;
    use secrecy::ExposeSecret;

    use super::*;
    use crate::password::policy::is_cognito_symbol;

    struct Failing;
    impl RandomSource for Failing {
        fn fill(&self, _: &mut [u8]) -> Result<(), GenerateError> {
            Err(GenerateError::Random)
        }
    }

    /// Hands out the scripted bytes, then zeros.
    struct Scripted(RefCell<VecDeque<u8>>);
    impl Scripted {
        fn new(bytes: &[u8]) -> Self {
            Self(RefCell::new(bytes.iter().copied().collect()))
        }
    }
    impl RandomSource for Scripted {
        fn fill(&self, dest: &mut [u8]) -> Result<(), GenerateError> {
            let mut queue = self.0.borrow_mut();
            for byte in dest {
                *byte = queue.pop_front().unwrap_or(0);
            }
            Ok(())
        }
    }

    fn policy(minimum_length: u32, upper: bool, lower: bool, numbers: bool, symbols: bool) -> PasswordPolicy {
        PasswordPolicy {
            minimum_length,
            require_uppercase: upper,
            require_lowercase: lower,
            require_numbers: numbers,
            require_symbols: symbols,
            temporary_password_validity_days: 7,
        }
    }

    #[test]
    fn alphabet_is_exactly_cognitos_four_classes_without_space() {
        let mut expected: Vec<u8> = [UPPERCASE, LOWERCASE, NUMBERS, SYMBOLS].concat();
        expected.sort_unstable();
        let mut alphabet = ALPHABET.to_vec();
        alphabet.sort_unstable();
        assert_eq!(alphabet, expected);
        let printable: Vec<u8> = (0x21..=0x7E).collect();
        assert_eq!(alphabet, printable, "all 94 printable ASCII characters but space");
    }

    #[test]
    fn failing_randomness_is_an_error_not_a_weak_password() {
        assert_eq!(
            generate_from(&Failing, &PasswordPolicy::COGNITO_DEFAULT, "alice").map(|_| ()),
            Err(GenerateError::Random)
        );
    }

    #[test]
    fn candidates_that_keep_failing_give_up_after_max_attempts() {
        // All-zero randomness always yields the same candidate, mostly 'A's: it contains "aaaa".
        let zeros = Scripted::new(&[]);
        assert_eq!(
            generate_from(&zeros, &PasswordPolicy::COGNITO_DEFAULT, "aaaa").map(|_| ()),
            Err(GenerateError::Exhausted)
        );
        let ok = generate_from(&zeros, &PasswordPolicy::COGNITO_DEFAULT, "bob").expect("zeros, other user");
        assert!(ok.expose_secret().to_lowercase().contains("aaaa"));
    }

    #[test]
    fn draws_at_or_above_the_largest_multiple_are_rejected() {
        // 2^32 = 45,691,141 * 94 + 42: words >= 4,294,967,254 would favour the first 42 values.
        let rejected = 4_294_967_254u32.to_le_bytes();
        let kept = 4_294_967_253u32.to_le_bytes();
        let mut script = Vec::new();
        script.extend_from_slice(&u32::MAX.to_le_bytes());
        script.extend_from_slice(&rejected);
        script.extend_from_slice(&kept);
        script.extend_from_slice(&7u32.to_le_bytes());
        let source = Scripted::new(&script);
        let mut draws = Draws::new(&source);
        assert_eq!(draws.below(94).unwrap(), 4_294_967_253 % 94);
        assert_eq!(draws.below(94).unwrap(), 7);
        assert_eq!(draws.below(1).unwrap(), 0);
    }

    #[test]
    fn length_is_the_pool_minimum_or_sixteen() {
        for (minimum, expected) in [(6, 16), (8, 16), (16, 16), (17, 17), (64, 64), (99, 99)] {
            let password = generate(&policy(minimum, false, false, false, false), "alice").unwrap();
            assert_eq!(password.expose_secret().chars().count(), expected, "minimum {minimum}");
        }
    }

    #[test]
    fn every_character_is_drawn_and_none_is_much_likelier() {
        let mut counts = [0u32; 128];
        let rounds = 2000;
        for _ in 0..rounds {
            let password = generate(&PasswordPolicy::COGNITO_DEFAULT, "alice").unwrap();
            for b in password.expose_secret().bytes() {
                counts[usize::from(b)] += 1;
            }
        }
        let mean = f64::from(rounds * MIN_GENERATED_LENGTH) / ALPHABET.len() as f64;
        for &b in ALPHABET {
            let count = f64::from(counts[usize::from(b)]);
            assert!(
                (0.6 * mean..1.6 * mean).contains(&count),
                "{:?} drawn {count} times, mean {mean:.0}",
                char::from(b)
            );
        }
        assert_eq!(
            counts.iter().sum::<u32>(),
            rounds * MIN_GENERATED_LENGTH,
            "only alphabet characters"
        );
    }

    fn any_policy() -> impl Strategy<Value = PasswordPolicy> {
        (6u32..=99, any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>())
            .prop_map(|(minimum, upper, lower, numbers, symbols)| policy(minimum, upper, lower, numbers, symbols))
    }

    proptest! {
        #[test]
        fn generated_passwords_meet_every_policy_and_are_never_common(
            policy in any_policy(),
            username in "[a-zA-Z0-9._@-]{0,24}",
        ) {
            let password = generate(&policy, &username).unwrap();
            let text = password.expose_secret();
            prop_assert!(policy.violations(text, &username, Some(Blocklist::common_passwords())).is_empty());
            prop_assert!(!Blocklist::common_passwords().contains(text));
            prop_assert!(PasswordPolicy { minimum_length: policy.minimum_length.max(16), ..PasswordPolicy::COGNITO_DEFAULT }
                .violations(text, "", None).is_empty(), "every class, whatever the policy");
            prop_assert_eq!(text.chars().count(), policy.minimum_length.max(MIN_GENERATED_LENGTH) as usize);
            prop_assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || is_cognito_symbol(c)));
        }
    }
}
