console.log('homopai');
