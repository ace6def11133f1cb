int isalnum(int), isalpha(int), isdigit(int), isspace(int), isxdigit(int), isprint(int);
int tolower(int), toupper(int);
