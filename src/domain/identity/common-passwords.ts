/**
 * A bundled list of very common passwords (the top of public breach corpora), lowercase. It is a
 * floor against the worst choices when `password.checkBlacklist` is on, not a complete list.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '123456', 'password', '12345678', 'qwerty', '123456789', '12345', '1234', '111111', '1234567', 'dragon',
  '123123', 'baseball', 'abc123', 'football', 'monkey', 'letmein', '696969', 'shadow', 'master', '666666',
  'qwertyuiop', '123321', 'mustang', '1234567890', 'michael', '654321', 'superman', '1qaz2wsx', '7777777',
  '121212', '000000', 'qazwsx', '123qwe', 'killer', 'trustno1', 'jordan', 'jennifer', 'zxcvbnm', 'asdfgh',
  'hunter', 'buster', 'soccer', 'harley', 'batman', 'andrew', 'tigger', 'sunshine', 'iloveyou', '2000', 'charlie',
  'robert', 'thomas', 'hockey', 'ranger', 'daniel', 'starwars', 'klaster', '112233', 'george', 'computer',
  'michelle', 'jessica', 'pepper', '1111', 'zxcvbn', '555555', '11111111', '131313', 'freedom', '777777',
  'pass', 'maggie', '159753', 'aaaaaa', 'ginger', 'princess', 'joshua', 'cheese', 'amanda', 'summer', 'love',
  'ashley', 'nicole', 'chelsea', 'biteme', 'matthew', 'access', 'yankees', '987654321', 'dallas', 'austin',
  'thunder', 'taylor', 'matrix', 'minecraft', 'password1', 'password123', 'passw0rd', 'p@ssw0rd', 'admin',
  'admin123', 'welcome', 'welcome1', 'login', 'qwerty123', 'abc12345', 'letmein1', 'iloveyou1', 'changeme',
  'secret', 'default', 'root', 'toor', 'test', 'test123', 'guest', '1q2w3e4r', '1q2w3e4r5t', 'q1w2e3r4',
  'zaq12wsx', 'qwe123', 'asdf1234', 'monkey123', 'football1', 'baseball1', 'superman1', 'dragon1', 'sunshine1',
  'princess1', 'whatever', 'hello123', 'hello', 'abcdef', 'abcd1234', 'aa123456', '11223344', '123654', '987654',
  '1234qwer', 'qwer1234', 'password12', 'password1234', 'letmein123', 'welcome123', 'iloveyou123', 'administrator',
  'master123', 'shadow123', 'starwars1', 'football123', '000000000', '1111111', '88888888', '12341234', '12121212',
  'qwertyui', 'asdfghjkl',
])
